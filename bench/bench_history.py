"""History benchmark: search, blame, store size and export size on a long history.

Usage: python bench/bench_history.py [--commits N] [--dir DIR] [--reuse] [--repeat R]
       python bench/bench_history.py --phases import export verify [--commits N] [--dir DIR]

Builds a history of N commits (default 1,000,000) through the bulk path:
``history_data.write_export`` generates a realistic deployment history
(roll-outs, scaling, renumbering, moves, password rotations, reverts; every
commit made by ``make_change`` and ``build_commit``, hashed and chained) as an
export file, and ``retrograde.import_`` loads it into a fresh embedded store
(SQLite, WAL, synchronous=FULL), checking every hash and rebuilding committed
state by replay. Then it measures:

- the first page (50 commits) of ``log`` under every filter, alone and
  combined, through ``retrograde.log_page`` on an open store; each query runs
  R times (default 5), the table shows the first (cold) run and the median;
- ``blame`` of services, nodes and a balancer;
- bytes per commit of the store file, as it is after the import and after
  VACUUM, with the share of each table and index (SQLite's ``dbstat``);
- ``export`` to ``.zst`` (time, bytes per commit), and ``verify`` (time).

``--dir`` keeps the files (default: a temporary directory); ``--reuse``
measures the store already in ``--dir`` without building it.

``--phases`` times only the named phases, in that order, each with its CPU
time (user + system of the process, zstd's worker threads included) beside
its wall time, which a loaded machine inflates far more: ``import`` of the
generated export (written to ``--dir`` once and reused while its commit count
matches) into a fresh store, ``export`` to ``.zst`` and ``verify`` of the
store in ``--dir``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from history_data import write_export  # noqa: E402

import retrograde  # noqa: E402
from retrograde.model.query import LogQuery  # noqa: E402
from retrograde.storage.sql.schema import commits  # noqa: E402
from retrograde.storage.sql.store import SqlStore  # noqa: E402

PAGE = 50
TARGET_MS = 50.0


@dataclass(frozen=True)
class Probe:
    """One measured question: a label and how to ask it."""

    label: str
    ask: Callable[[retrograde.Context], int]
    """Runs the query; returns how many rows it answered with."""


def log_probe(label: str, **filters: Any) -> Probe:
    def ask(ctx: retrograde.Context) -> int:
        return len(retrograde.log_page(ctx, LogQuery(limit=PAGE, **filters)).commits)

    return Probe(f"log {label}", ask)


def blame_probe(resource: str) -> Probe:
    def ask(ctx: retrograde.Context) -> int:
        return len(retrograde.blame(ctx, resource).commits)

    return Probe(f"blame {resource}", ask)


def probes(ctx: retrograde.Context, head: int) -> list[Probe]:
    """Every filter alone, a few combinations, and blame, with arguments from the history."""
    with ctx.store.read() as tx:
        middle = tx.log.get(head // 2)
        early = tx.log.get(max(1, head // 10))
    service = _busiest_service(ctx)
    return [
        log_probe("(no filter)"),
        log_probe(f"--resource {service}", resource=service),
        log_probe("--resource node-042", resource="node-042"),
        log_probe(f"--apply {middle.apply_id}", apply_id=middle.apply_id),
        log_probe("--principal heidi (rare)", principal="heidi"),
        log_probe("--principal ci-bot (common)", principal="ci-bot"),
        log_probe("--principal nobody (no match)", principal="nobody"),
        log_probe("--action remove", action="remove"),
        log_probe("--action run", action="run"),
        log_probe("--action update", action="update"),
        log_probe("--input port", input="port"),
        log_probe("--input image", input="image"),
        log_probe("--input password", input="password"),
        log_probe("--input nothing (no match)", input="nothing"),
        log_probe(
            f"--rev-from/--rev-to around {middle.rev}",
            rev_from=middle.rev - 500,
            rev_to=middle.rev + 500,
        ),
        log_probe(f"--before {middle.rev} (a later page)", before_rev=middle.rev),
        log_probe(f"--since {middle.timestamp[:10]}", since=middle.timestamp),
        log_probe(f"--until {early.timestamp[:10]}", until=early.timestamp),
        log_probe(
            "--since/--until, one hour", since=middle.timestamp, until=_plus_hour(middle.timestamp)
        ),
        log_probe("--resource + --principal", resource=service, principal="alice"),
        log_probe("--principal + --action", principal="heidi", action="remove"),
        log_probe("--input + --principal", input="port", principal="bob"),
        log_probe("--input + --resource", input="port", resource=service),
        log_probe("--apply + --action", apply_id=middle.apply_id, action="update"),
        log_probe("--since + --principal", since=middle.timestamp, principal="grace"),
        blame_probe(service),
        blame_probe("node-042"),
        blame_probe("lb-07"),
        blame_probe(_longest_lived_service(ctx)),
    ]


def measure(probe: Probe, ctx: retrograde.Context, repeat: int) -> tuple[float, float, int]:
    """``(first run ms, median ms, rows)`` of ``repeat`` runs."""
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = probe.ask(ctx)
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times), rows


def build(directory: Path, commits: int, url: str) -> dict[str, float]:
    export = directory / "generated.jsonl"
    start = time.perf_counter()
    write_export(export, commits)
    generated = time.perf_counter()
    print(f"generated {commits:,} commits in {generated - start:.0f} s", file=sys.stderr)
    with retrograde.open_context(url, cwd=directory, principal="bench") as ctx:
        retrograde.import_(ctx, export)
    imported = time.perf_counter()
    print(
        f"import: {commits:,} commits in {imported - generated:.1f} s "
        f"({commits / (imported - generated):,.0f} commits/s), peak RSS {peak_rss_mb():.0f} MB",
        file=sys.stderr,
    )
    export.unlink()
    return {"generate_s": generated - start, "import_s": imported - generated}


def size_figures(db: Path, commits: int) -> list[str]:
    """Bytes per commit now and after VACUUM, and each table's and index's share."""
    connection = sqlite3.connect(db)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = db.stat().st_size
        connection.execute("VACUUM")
        after = db.stat().st_size
        shares = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    finally:
        connection.close()
    lines = [
        f"store: {before / commits:.0f} bytes/commit after the import, "
        f"{after / commits:.0f} after VACUUM ({after / 1e6:.0f} MB)",
        "| table or index | bytes/commit |",
        "|---|---:|",
    ]
    lines.extend(
        f"| {name} | {size / commits:.1f} |" for name, size in shares if size > commits / 10
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="where to keep the store (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="measure the store in --dir")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=PHASES,
        help="time only these phases (CPU and wall), nothing else",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        if args.phases:
            for phase in args.phases:
                print(time_phase(directory, phase, args.commits), flush=True)
            return
        run(directory, args.commits, args.repeat, reuse=args.reuse)


PHASES = ("import", "export", "verify")


def time_phase(directory: Path, phase: str, commits: int) -> str:
    """One phase on the store in ``directory``, timed: a line with its CPU and wall time."""
    url = f"sqlite:///{directory / 'state.db'}"
    if phase == "import":
        generated = directory / f"generated-{commits}.jsonl"
        if not generated.exists():
            write_export(generated, commits)
        for leftover in directory.glob("state.db*"):
            leftover.unlink()
    with retrograde.open_context(url, cwd=directory, principal="bench") as ctx:
        cpu, start = cpu_seconds(), time.perf_counter()
        if phase == "import":
            done = retrograde.import_(ctx, generated).commits
        elif phase == "export":
            (directory / "history.jsonl.zst").unlink(missing_ok=True)
            done = retrograde.export(ctx, Path("history.jsonl.zst")).commits
        else:
            report = retrograde.verify(ctx)
            assert report.ok, report.problems[:1]
            done = report.commits
        cpu, wall = cpu_seconds() - cpu, time.perf_counter() - start
    return (
        f"{phase}: {done:,} commits, CPU {cpu:.2f} s (user+sys), wall {wall:.2f} s, "
        f"{cpu / done * 1e6:.1f} us of CPU per commit, load average {os.getloadavg()[0]:.1f}"
    )


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(directory: Path, commits: int, repeat: int, *, reuse: bool) -> None:
    db = directory / "state.db"
    url = f"sqlite:///{db}"
    if not reuse:
        for leftover in directory.glob("state.db*"):
            leftover.unlink()
        build(directory, commits, url)
    report: list[str] = []
    with retrograde.open_context(url, cwd=directory, principal="bench") as ctx:
        with ctx.store.read() as tx:
            head, _ = tx.log.head()
        commits = head
        report.append(
            f"history: {head:,} commits, {len(retrograde.state(ctx).resources):,} "
            f"resources, {retrograde.applies(ctx, limit=1).applies[0].id:,} applies"
        )
        report += ["", f"| query | first run | median of {repeat} | rows |", "|---|---:|---:|---:|"]
        worst = 0.0
        for probe in probes(ctx, head):
            first, median, rows = measure(probe, ctx, repeat)
            worst = max(worst, median)
            report.append(f"| {probe.label} | {first:.1f} ms | {median:.1f} ms | {rows} |")
        report.append(f"\nslowest median: {worst:.1f} ms (target: under {TARGET_MS:.0f} ms)")
        start = time.perf_counter()
        exported = retrograde.export(ctx, Path("history.jsonl.zst"))
        export_s = time.perf_counter() - start
        size = (directory / "history.jsonl.zst").stat().st_size
        start = time.perf_counter()
        verified = retrograde.verify(ctx)
        verify_s = time.perf_counter() - start
        rss = peak_rss_mb()
    report.append(
        f"export: {exported.commits:,} commits to .zst in {export_s:.1f} s "
        f"({exported.commits / export_s:,.0f} commits/s), "
        f"{size / exported.commits:.1f} bytes/commit ({size / 1e6:.0f} MB)"
    )
    report.append(
        f"verify: {'ok' if verified.ok else verified.problems[0]} in {verify_s:.1f} s "
        f"({verified.commits / verify_s:,.0f} commits/s); peak RSS of the process {rss:.0f} MB"
    )
    report += ["", *size_figures(db, commits)]
    report.append("\n" + machine_line(directory))
    print("\n".join(report))


def peak_rss_mb() -> float:
    """The process's peak resident set so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_line(directory: Path) -> str:
    return (
        f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, store in "
        f"{directory}, load average {os.getloadavg()[0]:.2f} at the end"
    )


def _busiest_service(ctx: retrograde.Context) -> str:
    """A service of the most common app, updated often (by the newest roll-outs)."""
    page = retrograde.log_page(ctx, LogQuery(input="image", limit=1)).commits
    return page[0].resource


def _longest_lived_service(ctx: retrograde.Context) -> str:
    """The service with the most commits (blame walks them all when one input never changed)."""
    assert isinstance(ctx.store, SqlStore)
    query = (
        select(commits.c.resource)
        .where(commits.c.resource.like("svc-%"))
        .group_by(commits.c.resource)
        .order_by(func.count().desc())
        .limit(1)
    )
    with ctx.store.engine.connect() as conn:
        return str(conn.execute(query).scalar_one())


def _plus_hour(stamp: str) -> str:
    hour = int(stamp[11:13])
    return f"{stamp[:11]}{min(hour + 1, 23):02d}{stamp[13:]}"


if __name__ == "__main__":
    main()
