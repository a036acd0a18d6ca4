"""Per-action overhead and throughput of the Celery executor against the threads executor.

Applies N independent no-op actions (a type without actions: the worker runs
the no-op handler, so what is timed is retrograde plus the broker round trip)
on a fresh embedded store, at ``--jobs`` 32, with 1, 2 and 4 worker processes
(``retrograde worker --concurrency 1`` each) on RabbitMQ, results in Redis;
then the same with the threads executor. Prints wall time per action and
actions per second.

    python bench/bench_celery.py [N] [--jobs J]

Needs RabbitMQ and Redis (RETROGRADE_CELERY_BROKER, RETROGRADE_CELERY_BACKEND;
default: the local ones) and the `celery` extra.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import retrograde
from retrograde import config

CLI = [sys.executable, "-m", "retrograde.cli.main"]


def flat_stack(n: int) -> str:
    lines = ["types:", "  idle: {version: 1, inputs: {n: {type: integer}}}", "resources:"]
    lines += [f"  r{i}: {{type: idle, inputs: {{n: {i}}}}}" for i in range(n)]
    return "\n".join(lines) + "\n"


def start_workers(count: int, root: Path, queue: str) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        log = root / f"worker-{index}.log"
        args = [*CLI, "worker", f"--name=bench{index}", f"--queue={queue}", "--concurrency=1"]
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen(
                    [*args, f"--root={root}"], stdout=out, stderr=out, start_new_session=True
                )
            )
    for index in range(count):
        log = root / f"worker-{index}.log"
        while b" ready." not in log.read_bytes():
            time.sleep(0.05)
    return workers


def measure(n: int, jobs: int, executor: str, workers: int) -> float:
    """Wall seconds of one apply of ``n`` no-op actions."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "stack.yaml").write_text(flat_stack(n))
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        os.environ[config.CELERY_QUEUE_ENV] = queue
        started = start_workers(workers, root, queue) if executor == "celery" else []
        try:
            with retrograde.open_context(f"sqlite:///{root}/state.db", cwd=root) as ctx:
                retrograde.stage(ctx, root / "stack.yaml")
                began = time.perf_counter()
                report = retrograde.apply(ctx, jobs=jobs, executor=executor, message="bench")
                elapsed = time.perf_counter() - began
            assert not report.failed, report.failures
            return elapsed
        finally:
            for process in started:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=2000)
    parser.add_argument("--jobs", type=int, default=32)
    args = parser.parse_args()
    print(f"N = {args.n} no-op actions, --jobs {args.jobs}")
    print("| executor | workers | wall | per action | actions/s |")
    print("|---|---:|---:|---:|---:|")
    for executor, workers in (("celery", 1), ("celery", 2), ("celery", 4), ("threads", 0)):
        seconds = measure(args.n, args.jobs, executor, workers)
        per = seconds / args.n * 1000
        print(
            f"| {executor} | {workers or '-'} | {seconds:.2f} s | {per:.2f} ms"
            f" | {args.n / seconds:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
