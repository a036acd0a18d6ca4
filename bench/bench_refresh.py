"""refresh benchmark: read N resources with a no-op python ``read`` and compare them.

Usage: python bench/bench_refresh.py [N ...] [--jobs J] [--db URL]

Each N runs in its own process on a fresh embedded store (SQLite, WAL,
synchronous=FULL) unless --db is given. The resources are applied first
(untimed); ``refresh`` is timed twice: with no drift, and with every resource
drifted (the read reports a changed input), the comparison and report of N
drifted resources included. Nothing is recorded (no ``--accept``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (10_000,)

STACK = """types:
  box:
    version: 1
    inputs:
      addr: {{type: string}}
      size: {{type: integer}}
    actions:
      run: {{python: "noop:noop"}}
      read: {{python: "noop:{read}"}}
resources:
"""


def write_stack(work: Path, n: int, read: str) -> Path:
    lines = [STACK.format(read=read)]
    lines += [
        f"  box{i}: {{type: box, inputs: {{addr: 10.0.{i // 250}.{i % 250}, size: {i}}}}}\n"
        for i in range(n)
    ]
    path = work / "stack.yaml"
    path.write_text("".join(lines))
    return path


def measure(n: int, jobs: int, db: str | None) -> dict[str, float]:
    """Run one size in this process and return its figures."""
    sys.path.insert(0, str(HERE))
    import retrograde

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = db or f"sqlite:///{work / 'state.db'}"
        with retrograde.open_context(url, cwd=work, principal="bench") as ctx:
            retrograde.apply(ctx, write_stack(work, n, "read_same"), jobs=jobs)
            t0 = time.perf_counter()
            clean = retrograde.refresh(ctx, jobs=jobs)
            t1 = time.perf_counter()
            retrograde.stage(ctx, write_stack(work, n, "read_grown"))
            retrograde.apply(ctx, jobs=jobs)
            t2 = time.perf_counter()
            drifted = retrograde.refresh(ctx, jobs=jobs)
            t3 = time.perf_counter()
        assert not clean.drift and not clean.failed, "unexpected drift"
        assert len(drifted.drift) == n and not drifted.failed, "drift not found"
    return {
        "n": n,
        "refresh_s": t1 - t0,
        "refresh_drifted_s": t3 - t2,
        "ms_per_resource": (t1 - t0) * 1000 / n,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(n: int, jobs: int, db: str | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(n), "--jobs", str(jobs)]
    if db:
        args += ["--db", db]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| N | refresh (no drift) | refresh (all drifted) | per resource | peak RSS |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['refresh_s']:.2f} s | {r['refresh_drifted_s']:.2f} s "
            f"| {r['ms_per_resource']:.3f} ms | {r['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES))
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--db")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.jobs, args.db)))
        return
    print(table([run_child(n, args.jobs, args.db) for n in args.sizes]))


if __name__ == "__main__":
    main()
