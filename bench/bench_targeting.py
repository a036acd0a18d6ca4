"""Targeting benchmark: selecting part of N staged changes, against the whole.

Usage: python bench/bench_targeting.py [N ...]

On the deployment-shaped graph (N/10 chains of 10 services and a fan-in
balancer, see graphs.py), generation 0 applied and generation 1 staged (every
resource updated), each N in its own process on a fresh embedded store:

- ``select``: the closure alone (pure, in memory) for one chain's tail (10
  actions) and for the balancer (every action: the worst case);
- ``plan`` and ``plan --target`` (one chain's tail) through the API;
- ``stage --target`` (one chain's tail) against a whole ``stage``.

The closure is one walk over the plan's edges, so every figure should grow
linearly with N.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (10_000, 100_000)


def timed(run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - start


def measure(n: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from graphs import write_stack

    import retrograde
    from retrograde.commands.planning import plan_for
    from retrograde.planning.targeting import Targeting, select

    tail = f"svc-{n // 10 - 1}-9"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'state.db'}"
        with retrograde.open_context(url, cwd=work, principal="bench") as ctx:
            retrograde.apply(ctx, write_stack(work, n), message="g0")
            g1 = write_stack(work, n, generation=1)
            changes = retrograde.stage(ctx, g1)
            whole = plan_for(changes)
            figures = {
                "n": n,
                "select_tail_s": timed(lambda: select(whole, changes, Targeting.of([tail]))),
                "select_all_s": timed(lambda: select(whole, changes, Targeting.of(["balancer"]))),
                "plan_s": timed(lambda: retrograde.plan(ctx)),
                "plan_target_s": timed(lambda: retrograde.plan(ctx, targets=[tail])),
                "stage_s": timed(lambda: retrograde.stage(ctx, g1)),
            }
            retrograde.discard(ctx)
            figures["stage_target_s"] = timed(lambda: retrograde.stage(ctx, g1, targets=[tail]))
            assert len(retrograde.diff(ctx)) == 10, "the tail's chain only"
    return figures


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or list(DEFAULT_SIZES)
    print("| N | select (10) | select (all) | plan | plan --target | stage | stage --target |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        args = [sys.executable, __file__, "--child", str(n)]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {n:,} | {r['select_tail_s'] * 1000:.1f} ms | {r['select_all_s'] * 1000:.1f} ms "
            f"| {r['plan_s']:.2f} s | {r['plan_target_s']:.2f} s | {r['stage_s']:.2f} s "
            f"| {r['stage_target_s']:.2f} s |"
        )


if __name__ == "__main__":
    main()
