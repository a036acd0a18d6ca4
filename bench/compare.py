"""Side by side: retrograde and OpenStack TaskFlow on the same deployment-shaped graph.

Usage: python bench/compare.py [--sizes N ...] [--jobs J] [--repeat R] [--sides S ...]
                               [--quick] [--json FILE]

Both sides get the graph of ``bench/graphs.py``: N/10 chains of 10 connected
services and a balancer fanning in the last service of every chain, N + 1
actions, each a no-op, so what is measured is the orchestrator itself.

- ``retrograde``: the public API on the embedded SQLite store (WAL,
  synchronous=FULL, the default): ``stage`` + ``plan`` (the build phase), then
  ``apply(ctx, jobs=J)`` with the no-op python handler of ``bench/noop.py``.
  Revert: a fresh apply, then ``retrograde.revert(ctx, apply_id=…)`` and the
  ``apply`` that runs it (N + 1 removals), timed together; "n/a" while the
  installed retrograde has no ``revert``.
- ``taskflow-memory`` and ``taskflow-sqlite``: a ``graph_flow.Flow`` of no-op
  tasks wired by provides/requires (same edges), run by the parallel engine
  with J worker threads, once with TaskFlow's in-memory persistence and once
  with its SQLAlchemy backend on a ``sqlite:///`` file (TaskFlow's own
  settings). Build phase: creating the tasks and the flow, ``engines.load``,
  ``compile``, ``prepare`` and ``validate``; then ``run``. Revert: the same flow
  with one more task after the balancer that raises, so the engine reverts
  every task; timed from the raise to the end of ``run``.
- ``sqlite-floor``: N + 1 raw ``sqlite3`` appends of commit-sized rows, one
  transaction each, WAL, synchronous=FULL (``bench/limits.py``).

Every measurement runs in its own child process (so peak RSS is per side and
size); within a size the sides alternate, and with ``--repeat R`` the order
rotates each round and the table shows medians. Defaults: N = 1,000 and 5,000,
J = 4, R = 1. ``--quick`` is a smoke run (N = 100). The default run takes 20 to
40 minutes here, nearly all of it TaskFlow with SQLite persistence at N = 5,000.

TaskFlow is a benchmark-only dependency (the ``bench`` dependency group of
pyproject.toml, PEP 735), never one of retrograde's. Install it into the
environment that has retrograde, from the project directory, with
``pip install --group bench`` (pip >= 25.1), or with any pip as
``pip install 'taskflow>=6' 'SQLAlchemy>=2.0' 'alembic>=1.13'`` (its SQLAlchemy
persistence back end needs nothing more; retrograde already has the last two).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphs import CHAIN, write_stack
from limits import Mode, fresh_append, machine_line

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (1_000, 5_000)
QUICK_SIZES = (100,)
SIDES = ("sqlite-floor", "retrograde", "taskflow-memory", "taskflow-sqlite")
TASKFLOW_SIDES = ("taskflow-memory", "taskflow-sqlite")
LABELS = {
    "sqlite-floor": "SQLite floor (sqlite3, WAL, FULL, 1 row/txn)",
    "retrograde": "retrograde (SQLite, WAL, FULL)",
    "taskflow-memory": "TaskFlow, in-memory persistence",
    "taskflow-sqlite": "TaskFlow, SQLite persistence",
}
TASKFLOW_MODULES = (
    "taskflow.task",
    "taskflow.patterns.graph_flow",
    "taskflow.persistence.backends",
    "taskflow.persistence.backends.impl_sqlalchemy",  # fetch() loads it for sqlite:// only
)
INSTALL = "pip install --group bench (pip >= 25.1), or pip install taskflow SQLAlchemy alembic"

Figures = dict[str, Any]
BySide = dict[str, dict[str, Figures]]
"""Figures by side, then by mode (``apply``, ``revert``)."""
Results = dict[int, BySide]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def require(condition: bool, what: str) -> None:
    """Refuse to report figures of a run that did not do the whole job."""
    if not condition:
        raise RuntimeError(f"incomplete run: {what}")


# retrograde


def measure_retrograde(n: int, jobs: int, revert: bool) -> Figures:
    """Stage, plan and apply the graph on a fresh embedded store; then revert it if asked."""
    import retrograde

    figures: Figures = {"actions": n + 1, "base_rss_mb": peak_rss_mb()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = write_stack(work, n)
        url = f"sqlite:///{work / 'state.db'}"
        with retrograde.open_context(url, cwd=work, principal="bench") as ctx:
            started = time.perf_counter()
            retrograde.stage(ctx, path)
            plan = retrograde.plan(ctx)
            planned = time.perf_counter()
            report = retrograde.apply(ctx, jobs=jobs, message="bench")
            applied = time.perf_counter()
            require(len(plan) == len(report.commits) == n + 1, "apply")
            figures |= {"build_s": planned - started, "run_s": applied - planned}
            if revert:
                figures["revert_s"] = revert_retrograde(ctx, report.apply_id, n, jobs)
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def revert_retrograde(ctx: Any, apply_id: int | None, n: int, jobs: int) -> float | None:
    """Seconds to revert the whole apply ``apply_id`` and apply that; None without ``revert``."""
    import retrograde

    revert = getattr(retrograde, "revert", None)
    if revert is None:
        return None
    started = time.perf_counter()
    staged = revert(ctx, apply_id=apply_id)
    report = retrograde.apply(ctx, jobs=jobs, message="bench revert")
    elapsed = time.perf_counter() - started
    if report.apply_id is None and isinstance(staged, retrograde.ApplyReport):
        report = staged  # a revert that applies by itself
    require(len(report.commits) == n + 1, "revert")
    return elapsed


# TaskFlow


class FailedAt:
    """When the failing task raised (it runs in a worker thread of this process)."""

    moment: float | None = None


def task_classes() -> tuple[type, type]:
    """The no-op task and the failing last task (TaskFlow is imported only in its children)."""
    from taskflow import task

    class Noop(task.Task):  # type: ignore[misc]
        def execute(self, **upstream: str) -> str:
            return "10.0.0.1"

    class Fail(task.Task):  # type: ignore[misc]
        def execute(self, **upstream: str) -> None:
            FailedAt.moment = time.perf_counter()
            raise RuntimeError("the last task fails, so the engine reverts every task")

    return Noop, Fail


def deployment_flow(n: int, *, fail: bool) -> Any:
    """The graph of ``bench/graphs.py`` as a graph flow: each service provides its name."""
    from taskflow.patterns import graph_flow

    noop, failing = task_classes()
    tasks, tails = [], []
    for chain in range(n // CHAIN):
        for link in range(CHAIN):
            name = f"svc-{chain}-{link}"
            upstream = [f"svc-{chain}-{link - 1}"] if link else []
            tasks.append(noop(name=name, provides=name, requires=upstream))
        tails.append(f"svc-{chain}-{CHAIN - 1}")
    tasks.append(noop(name="balancer", provides="balancer", requires=tails))
    if fail:
        tasks.append(failing(name="verify", requires=["balancer"]))
    return graph_flow.Flow("deployment").add(*tasks)  # one add: linking is then linear


@contextlib.contextmanager
def taskflow_backend(persistence: str) -> Iterator[Any]:
    """A TaskFlow persistence backend with its schema in place (memory, or a fresh SQLite file)."""
    from taskflow.persistence import backends

    with tempfile.TemporaryDirectory() as tmp:
        url = "memory://" if persistence == "memory" else f"sqlite:///{Path(tmp) / 'taskflow.db'}"
        backend = backends.fetch({"connection": url})
        with contextlib.closing(backend.get_connection()) as conn:
            conn.upgrade()
        try:
            yield backend
        finally:
            backend.close()


def sqlite_settings(backend: Any) -> str:
    """The journal mode and sync level TaskFlow's own connections have."""
    engine = getattr(backend, "engine", None)
    if engine is None:
        return ""
    with engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return f"journal_mode={journal}, synchronous={levels.get(sync, sync)}"


def measure_taskflow(n: int, jobs: int, persistence: str, revert: bool) -> Figures:
    """Build and run the flow (with a failing last task when ``revert``) on the parallel engine."""
    from taskflow import engines

    for module in TASKFLOW_MODULES[: None if persistence == "sqlite" else -1]:
        importlib.import_module(module)  # before the baseline, like retrograde's imports
    figures: Figures = {"actions": n + 1, "base_rss_mb": peak_rss_mb()}
    with taskflow_backend(persistence) as backend:
        started = time.perf_counter()
        flow = deployment_flow(n, fail=revert)
        engine = engines.load(flow, backend=backend, engine="parallel", max_workers=jobs)
        engine.compile()
        engine.prepare()
        engine.validate()
        built = time.perf_counter()
        figures |= run_taskflow(engine, revert)
        names = [atom.name for atom, _ in flow.iter_nodes()]
        states = {state for state, _ in engine.storage.get_atoms_states(names).values()}
        require(states == {"REVERTED" if revert else "SUCCESS"}, f"tasks ended {states}")
        figures["build_s"] = built - started
        figures["settings"] = sqlite_settings(backend)
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def run_taskflow(engine: Any, revert: bool) -> Figures:
    """Run the engine; when reverting, time from the failing task's raise to the end of run."""
    started = time.perf_counter()
    try:
        engine.run()
    except RuntimeError:
        require(revert and FailedAt.moment is not None, "run failed")
    ended = time.perf_counter()
    if revert and FailedAt.moment is not None:
        return {"revert_s": ended - FailedAt.moment, "forward_s": FailedAt.moment - started}
    return {"run_s": ended - started}


# the floor


def measure_floor(n: int) -> Figures:
    """N + 1 raw appends, one transaction each, WAL, synchronous=FULL."""
    seconds = fresh_append(Path(tempfile.gettempdir()), n + 1, Mode("FULL", 1))
    return {"actions": n + 1, "run_s": seconds}


def measure(side: str, mode: str, n: int, jobs: int) -> Figures:
    """One measurement, in this (child) process."""
    revert = mode == "revert"
    if side == "retrograde":
        return measure_retrograde(n, jobs, revert)
    if side in TASKFLOW_SIDES:
        return measure_taskflow(n, jobs, side.removeprefix("taskflow-"), revert)
    return measure_floor(n)


# the parent: schedule children, aggregate, print


def run_child(side: str, mode: str, n: int, args: argparse.Namespace) -> Figures:
    """One measurement in a child process; ``{"failed": True}`` (error on stderr) if it failed."""
    argv = [sys.executable, __file__, "--child", side, mode, str(n), "--jobs", str(args.jobs)]
    argv += ["--memory-limit", str(args.memory_limit)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        print(f"N={n:,} {side} {mode}: failed\n{tail}", file=sys.stderr)
        return {"failed": True}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def schedule(sides: list[str], revert: bool) -> list[tuple[str, str]]:
    """One round: every side's apply measurement, then every side's revert, alternating."""
    rounds = [(side, "apply") for side in sides]
    if revert:
        rounds += [(side, "revert") for side in sides if side != "sqlite-floor"]
    return rounds


def median_figures(runs: list[Figures]) -> Figures:
    """Medians of the numeric figures of several runs (None when any run lacks one)."""
    merged: Figures = {}
    for key in runs[0]:
        values = [run.get(key) for run in runs]
        numbers = [v for v in values if isinstance(v, int | float)]
        if len(numbers) == len(values):
            merged[key] = statistics.median(numbers)
        else:  # text (settings), or a figure some run lacks (None)
            merged[key] = values[0] if all(v == values[0] for v in values) else None
    return merged


def collect(sizes: list[int], args: argparse.Namespace) -> Results:
    """All measurements: ``{n: {side: {"apply": figures, "revert": figures}}}`` (medians)."""
    results: Results = {}
    for n in sizes:
        runs: dict[tuple[str, str], list[Figures]] = {}
        order = schedule(args.sides, not args.no_revert)
        for round_ in range(args.repeat):
            shift = round_ % len(order)
            for side, mode in order[shift:] + order[:shift]:
                figures = run_child(side, mode, n, args)
                if not figures.get("failed"):
                    runs.setdefault((side, mode), []).append(figures)
                    print(f"N={n:,} {side} {mode}: {brief(figures)}", file=sys.stderr)
        results[n] = {}
        for side, mode in order:
            found = runs.get((side, mode))
            results[n].setdefault(side, {})[mode] = median_figures(found or [{"failed": True}])
    return results


def brief(figures: Figures) -> str:
    keys = ("build_s", "run_s", "forward_s", "revert_s", "peak_rss_mb")
    return ", ".join(f"{k}={figures[k]:.3f}" for k in keys if figures.get(k) is not None)


def source_line() -> str:
    """Which retrograde was measured: the commit, and whether src/ had uncommitted changes."""
    git = ["git", "-C", str(HERE)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "../src"], capture_output=True)
    if head.returncode != 0:
        return "retrograde: not a git checkout"
    changes = " + uncommitted changes in src/" if dirty.stdout.strip() else ""
    return f"retrograde: commit {head.stdout.strip()}{changes}"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def millis(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} ms"


def megabytes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def per_action(figures: Figures, key: str) -> float | None:
    value = figures.get(key)
    return None if value is None else value * 1000 / figures["actions"]


def side_row(n: int, side: str, found: dict[str, Figures]) -> str:
    apply_, revert = found.get("apply", {}), found.get("revert", {})
    if apply_.get("failed"):
        return f"| {n:,} | {LABELS[side]} | failed (see stderr) |"
    if revert.get("failed"):
        revert = {"revert_s": None}
    cells = [
        f"{n:,}",
        LABELS[side],
        "-" if side == "sqlite-floor" else seconds(apply_.get("build_s")),
        seconds(apply_.get("run_s")),
        millis(per_action(apply_, "run_s")),
        "-" if not revert else seconds(revert.get("revert_s")),
        "-" if not revert else millis(per_action(revert, "revert_s")),
        megabytes(apply_.get("peak_rss_mb")),
        megabytes(apply_.get("base_rss_mb")),
    ]
    return "| " + " | ".join(cells) + " |"


def figures_table(results: Results) -> str:
    lines = [
        "| N | side | build / stage+plan | apply / run | per action | revert "
        "| revert per action | peak RSS | RSS after imports |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, by_side in results.items():
        lines += [side_row(n, side, by_side[side]) for side in SIDES if side in by_side]
    return "\n".join(lines)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}x"


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "NO")


def at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def all_met(checks: list[bool | None]) -> bool | None:
    return None if any(c is None for c in checks) else all(checks)


def ratio_rows(n: int, by_side: BySide) -> list[str]:
    """TaskFlow / retrograde for each figure, with the issue's target where it sets one."""
    ours = by_side.get("retrograde", {})
    mem = by_side.get("taskflow-memory", {})
    sql = by_side.get("taskflow-sqlite", {})

    def pick(found: dict[str, Figures], mode: str, key: str) -> float | None:
        figures = found.get(mode, {})
        return per_action(figures, key) if key.endswith("_s") else figures.get(key)

    rows = []
    specs = (
        ("stage+plan vs build", "apply", "build_s", None, None, ""),
        ("apply overhead per action", "apply", "run_s", 2.0, 50.0, ">= 2x memory, >= 50x SQLite"),
        ("whole-apply revert", "revert", "revert_s", None, 50.0, ">= 50x SQLite"),
        ("peak RSS", "apply", "peak_rss_mb", 10.0, 10.0, ">= 10x at N = 5,000"),
    )
    for label, mode, key, mem_target, sql_target, target in specs:
        ours_value = pick(ours, mode, key)
        by_mem = ratio(pick(mem, mode, key), ours_value)
        by_sql = ratio(pick(sql, mode, key), ours_value)
        checks = []
        if mem_target is not None:
            checks.append(at_least(by_mem, mem_target))
        if sql_target is not None:
            checks.append(at_least(by_sql, sql_target))
        applies = bool(checks) and (key != "peak_rss_mb" or n == 5_000)
        met = verdict(all_met(checks)) if applies else "-"
        cells = [f"{n:,}", label, times(by_mem), times(by_sql), target or "-", met]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def floor_row(n: int, by_side: BySide) -> str | None:
    ours = per_action(by_side.get("retrograde", {}).get("apply", {}), "run_s")
    floor = per_action(by_side.get("sqlite-floor", {}).get("apply", {}), "run_s")
    if ours is None or floor is None:
        return None
    multiple = ours / floor
    cells = [f"{n:,}", millis(ours), millis(floor), times(multiple), "<= 3x"]
    return "| " + " | ".join([*cells, verdict(multiple <= 3.0)]) + " |"


def ratio_tables(results: Results) -> str:
    if not any(side in by_side for by_side in results.values() for side in TASKFLOW_SIDES):
        lines = []
    else:
        lines = ratio_header()
        for n, by_side in results.items():
            lines += ratio_rows(n, by_side)
    floors = [row for n, by_side in results.items() if (row := floor_row(n, by_side))]
    if floors:
        lines += [
            *([""] if lines else []),
            "| N | retrograde per action | SQLite floor per row | multiple | target | met |",
            "|---:|---:|---:|---:|---|---|",
            *floors,
        ]
    return "\n".join(lines)


def ratio_header() -> list[str]:
    return [
        "| N | figure | TaskFlow memory / retrograde | TaskFlow SQLite / retrograde "
        "| target | met |",
        "|---:|---|---:|---:|---|---|",
    ]


def settings_note(results: Results) -> str:
    for by_side in results.values():
        found = by_side.get("taskflow-sqlite", {}).get("apply", {})
        if found.get("settings"):
            return f"TaskFlow SQLite persistence ran with {found['settings']}."
    return ""


def report(results: Results, jobs: int, repeat: int) -> str:
    head = (
        f"{machine_line(Path(tempfile.gettempdir()))}\n{source_line()}\n"
        f"jobs/max_workers: {jobs}; median of {repeat}; per action = phase time / (N + 1)\n"
    )
    note = settings_note(results)
    return "\n".join(
        [head, figures_table(results), "", ratio_tables(results), *(["", note] if note else [])]
    )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=list(DEFAULT_SIZES))
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--no-revert", action="store_true", help="skip the revert runs")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 100")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=16.0,
        metavar="GB",
        help="address-space limit of each measuring process (TaskFlow's memory grows "
        "faster than N; a side over it is reported as failed), default 16",
    )
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "MODE", "N"), help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    if args.child:
        side, mode, n = args.child
        limit = int(args.memory_limit * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        print(json.dumps(measure(side, mode, int(n), args.jobs)))
        return
    wants_taskflow = any(side in TASKFLOW_SIDES for side in args.sides)
    if wants_taskflow and importlib.util.find_spec("taskflow") is None:
        sys.exit(f"TaskFlow is not installed here: {INSTALL}")
    sizes = list(QUICK_SIZES) if args.quick else args.sizes
    if any(n % CHAIN for n in sizes):
        sys.exit(f"sizes must be multiples of {CHAIN}")
    results = collect(sizes, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results, args.jobs, args.repeat))


if __name__ == "__main__":
    main()
