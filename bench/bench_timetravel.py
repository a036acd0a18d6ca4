"""Time-travel benchmark: ``state --at REV`` on a long history.

Usage: python bench/bench_timetravel.py [--commits N] [--resources M] [--samples S]
       [--db URL] [--reuse]

Builds a history of N commits over M resources (default 1,000,000 over
10,000) through the store's group-commit path (``commit_changes`` in one
write transaction) in batches of 10,000 finished changes, exactly what the
apply engine does after its handlers ran, so every commit is hashed and chained, committed state is
updated and snapshots are written as in production (handlers are left out:
they would measure the handlers, not the store). The first M commits run the
resources (chains of 10 connected services); each later commit updates one
resource chosen at random.

Then it asks for the state at S revisions spread over the history, the worst
case included (the revision just before a snapshot), through the API
(``retrograde.commands.timetravel.state_at``) and through the command line
(``retrograde state --at REV --json``, a new process each time: Python start,
store open, query, JSON output), and checks a few answers against a forward
replay from the previous snapshot. ``--reuse`` measures an existing ``--db``
without building.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

import retrograde
from retrograde.clock import utc_now
from retrograde.commands import timetravel
from retrograde.engine.committing import commit_changes
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import make_change
from retrograde.model.plan import Plan
from retrograde.model.state import ResourceState
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql.schema import snapshots
from retrograde.storage.sql.snapshots import SNAPSHOT_EVERY
from retrograde.storage.sql.store import SqlStore

BATCH = 1_000
"""Finished changes per write transaction (an apply's group commits are usually smaller)."""
CHAIN = 10


def initial_state(resources: int) -> dict[str, ResourceState]:
    """``resources`` services in chains of 10, each taking its upstream's address."""
    state: dict[str, ResourceState] = {}
    for i in range(resources):
        name = f"svc-{i // CHAIN}-{i % CHAIN}"
        inputs = {"addr": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", "gen": 0, "port": 5000}
        connections = {}
        if i % CHAIN:
            upstream = f"svc-{i // CHAIN}-{i % CHAIN - 1}"
            inputs["upstream"] = state[upstream].inputs["addr"]
            connections["upstream"] = f"{upstream}.addr"
        state[name] = ResourceState("service", 1, inputs, connections, {"node": f"node{i % 50}"})
    return state


def build_history(store: Store, commits: int, resources: int) -> float:
    """Write ``commits`` commits over ``resources`` resources; returns seconds taken."""
    started = time.perf_counter()
    with store.write() as tx:
        record = tx.applies.begin("bench", "history", utc_now(), Plan(()))
    current: dict[str, ResourceState] = {}
    target = initial_state(resources)
    names = list(target)
    rng = random.Random(7)
    written = 0
    while written < commits:
        entries: list[CommitEntry] = []
        now = utc_now()
        for _ in range(min(BATCH, commits - written)):
            if written < resources:
                name = names[written]
                after = target[name]
            else:
                name = names[rng.randrange(resources)]
                before = current[name]
                after = ResourceState(
                    before.type,
                    before.version,
                    {**before.inputs, "gen": int(before.inputs["gen"]) + 1},
                    before.connections,
                    before.tags,
                )
            change = make_change(name, current.get(name), after)
            assert change is not None
            entries.append(CommitEntry(change, now))
            current[name] = after
            written += 1
        with store.write() as tx:
            commit_changes(tx, record.id, "bench", "history", entries)
        if written % 100_000 < BATCH:
            print(f"  {written:,} commits, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with store.write() as tx:
        tx.applies.finish(record.id, ApplyStatus.SUCCEEDED, ended_at=utc_now())
    return time.perf_counter() - started


def sample_revisions(head: int, samples: int) -> list[int]:
    """Revisions spread over the history, with the worst case (just before a snapshot)."""
    rng = random.Random(11)
    worst = max(SNAPSHOT_EVERY - 1, (head // SNAPSHOT_EVERY) * SNAPSHOT_EVERY - 1)
    spread = [rng.randrange(1, head + 1) for _ in range(max(0, samples - 2))]
    return [worst, head - 1, *spread]


def time_api(url: str, revs: list[int]) -> list[tuple[int, int, float, int]]:
    """``(rev, commits replayed, seconds, resources)`` for ``state_at`` on one open store."""
    results = []
    with retrograde.open_context(url, principal="bench") as ctx:
        for rev in revs:
            replayed = rev - snapshot_below(ctx, rev)
            t0 = time.perf_counter()
            snapshot = timetravel.state_at(ctx, rev)
            results.append((rev, replayed, time.perf_counter() - t0, len(snapshot.resources)))
    return results


def snapshot_below(ctx: retrograde.Context, rev: int) -> int:
    """The revision of the snapshot ``state_at(rev)`` starts from (0 for none)."""
    assert isinstance(ctx.store, SqlStore)
    query = select(func.max(snapshots.c.rev)).where(snapshots.c.rev <= rev)
    with ctx.store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def snapshot_sizes(url: str) -> tuple[int, int]:
    """How many snapshots the store holds and their total compressed bytes."""
    with retrograde.open_context(url, principal="bench") as ctx:
        assert isinstance(ctx.store, SqlStore)
        query = select(func.count(), func.sum(func.length(snapshots.c.state)))
        with ctx.store.engine.connect() as conn:
            count, size = conn.execute(query).one()
    return int(count), int(size or 0)


def time_cli(url: str, revs: list[int]) -> list[float]:
    """Wall seconds of ``retrograde --db URL state --at REV --json`` in a new process each."""
    start = "from retrograde.cli.main import main; main()"
    command = [sys.executable, "-c", start, "--db", url, "state", "--json", "--at"]
    times = []
    for rev in revs:
        t0 = time.perf_counter()
        subprocess.run([*command, str(rev)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def check_answers(url: str, revs: list[int]) -> None:
    """State at ``rev`` equals state at ``rev - 1`` plus commit ``rev`` (independent path)."""
    from retrograde.planning.replay import replay

    with retrograde.open_context(url, principal="bench") as ctx:
        for rev in revs[:3]:
            with ctx.store.read() as tx:
                previous = tx.snapshots.state_at(rev - 1)
                expected = replay(tx.log.get_many([rev]), previous)
                assert tx.snapshots.state_at(rev) == expected, f"state at {rev} differs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=1_000_000)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="measure --db as it is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'state.db'}"
        if not args.reuse:
            print(
                f"building {args.commits:,} commits over {args.resources:,} resources",
                file=sys.stderr,
            )
            with retrograde.open_context(url, principal="bench") as ctx:
                built = build_history(ctx.store, args.commits, args.resources)
            print(f"built in {built:.0f} s ({built * 1e6 / args.commits:.0f} µs per commit)")
        with retrograde.open_context(url, principal="bench") as ctx, ctx.store.read() as tx:
            head, _ = tx.log.head()
        revs = sample_revisions(head, args.samples)
        check_answers(url, revs)
        api = time_api(url, revs)
        cli = time_cli(url, revs[:3])
        report(head, api, cli, snapshot_sizes(url))


def report(
    head: int,
    api: list[tuple[int, int, float, int]],
    cli: list[float],
    sizes: tuple[int, int],
) -> None:
    times = [seconds for _, _, seconds, _ in api]
    print(f"history: {head:,} commits; snapshot interval {SNAPSHOT_EVERY:,}")
    print(f"snapshots: {sizes[0]:,}, {sizes[1] / 1e6:.1f} MB in all")
    print("| rev | commits replayed after the snapshot | resources | state_at |")
    print("|---:|---:|---:|---:|")
    for rev, replayed, seconds, count in api:
        print(f"| {rev:,} | {replayed:,} | {count:,} | {seconds * 1000:.0f} ms |")
    print(
        f"\nstate_at (API): median {statistics.median(times) * 1000:.0f} ms,"
        f" max {max(times) * 1000:.0f} ms over {len(times)} revisions"
    )
    print(
        f"`retrograde state --at REV --json` (new process, incl. start-up and output):"
        f" median {statistics.median(cli):.2f} s, max {max(cli):.2f} s"
    )


if __name__ == "__main__":
    main()
