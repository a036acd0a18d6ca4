"""Core benchmark: stage, plan and apply a deployment-shaped graph of N resources.

Usage: python bench/bench_core.py [N ...] [--jobs J] [--db URL] [--secret]

Each N runs in its own process (so peak RSS is per size) on a fresh embedded
store (SQLite, WAL, synchronous=FULL) unless --db is given. Reports wall time
per phase, apply overhead per action (no-op python handler) and peak RSS.
With --secret every service has a secret input of its own, so staging seals
one value per action and apply opens it for the handler: the cost of
encryption at rest (the key file goes to the run's temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)


def measure(n: int, jobs: int, db: str | None, secret: bool = False) -> dict[str, float]:
    """Run one size in this process and return its figures."""
    sys.path.insert(0, str(HERE))
    from graphs import write_stack

    import retrograde

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(work / "config")
        path = write_stack(work, n, secret=secret)
        url = db or f"sqlite:///{work / 'state.db'}"
        with retrograde.open_context(url, cwd=work, principal="bench") as ctx:
            t0 = time.perf_counter()
            changes = retrograde.stage(ctx, path)
            t1 = time.perf_counter()
            plan = retrograde.plan(ctx)
            t2 = time.perf_counter()
            report = retrograde.apply(ctx, jobs=jobs, message="bench")
            t3 = time.perf_counter()
        assert len(changes) == len(plan) == len(report.commits) == n + 1, "incomplete apply"
    actions = n + 1
    return {
        "n": n,
        "stage_s": t1 - t0,
        "plan_s": t2 - t1,
        "stage_plan_s": t2 - t0,
        "apply_s": t3 - t2,
        "apply_ms_per_action": (t3 - t2) * 1000 / actions,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(n: int, jobs: int, db: str | None, secret: bool = False) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(n), "--jobs", str(jobs)]
    if secret:
        args.append("--secret")
    if db:
        args += ["--db", db]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def table(rows: list[dict[str, float]]) -> str:
    head = "| N | stage | plan | stage+plan | apply | apply/action | peak RSS |"
    lines = [head, "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['stage_s']:.2f} s | {r['plan_s']:.2f} s "
            f"| {r['stage_plan_s']:.2f} s | {r['apply_s']:.2f} s "
            f"| {r['apply_ms_per_action']:.3f} ms | {r['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES))
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file per size)")
    parser.add_argument("--secret", action="store_true", help="a secret input per service")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.jobs, args.db, args.secret)))
        return
    rows = []
    for n in args.sizes:
        rows.append(run_child(n, args.jobs, args.db, args.secret))
        print(f"N={n:,}: done", file=sys.stderr)
    print(table(rows))
    if len(rows) >= 2 and rows[-2]["stage_plan_s"] > 0:
        ratio = rows[-1]["stage_plan_s"] / rows[-2]["stage_plan_s"]
        print(f"\nstage+plan growth {rows[-2]['n']:,} -> {rows[-1]['n']:,}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
