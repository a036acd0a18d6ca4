"""Per-action overhead and throughput of the Celery executor, the threads executor and TaskFlow.

Applies N independent no-op actions (a type without actions: the worker runs
the no-op handler, so what is timed is retrograde plus the broker round trip)
on a fresh embedded store, at ``--jobs`` 32, with 1, 2 and 4 worker processes
(``retrograde worker --concurrency 1`` each) on RabbitMQ, results in Redis;
then the same with the threads executor; then OpenStack TaskFlow's
worker-based engine (WBE) running N independent no-op tasks (an unordered
flow) on 1, 2 and 4 TaskFlow worker processes (one thread each) over the same
RabbitMQ broker. Prints wall time per action, actions per second, and the CPU
seconds per action that the coordinator (this process) and the workers spent:
on a shared machine, wall time is mostly waiting for a core.

    python bench/bench_celery.py [N] [--jobs J] [--prefetch P] [--no-taskflow] [--workers W ...]

Needs RabbitMQ and Redis (RETROGRADE_CELERY_BROKER, RETROGRADE_CELERY_BACKEND;
default: the local ones), the `celery` extra, and for TaskFlow the `bench`
dependency group (``pip install --group bench``).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import retrograde
from retrograde import config

CLI = [sys.executable, "-m", "retrograde.cli.main"]
BENCH = Path(__file__).resolve().parent
WORKER_COUNTS = (1, 2, 4)
TASKFLOW_SETTLE_SECONDS = 3.0
"""Left to TaskFlow workers to bind their queues before the engine looks for them (runs whose
engine started at once sometimes never found them and made no progress for minutes)."""


@dataclass(frozen=True)
class Run:
    """One measured run: wall seconds, and CPU seconds of the coordinator and of the workers."""

    wall: float
    coordinator_cpu: float
    workers_cpu: float


def flat_stack(n: int) -> str:
    lines = ["types:", "  idle: {version: 1, inputs: {n: {type: integer}}}", "resources:"]
    lines += [f"  r{i}: {{type: idle, inputs: {{n: {i}}}}}" for i in range(n)]
    return "\n".join(lines) + "\n"


def wait_for_line(log: Path, line: bytes) -> None:
    deadline = time.monotonic() + 120
    while line not in log.read_bytes():
        if time.monotonic() > deadline:
            raise SystemExit(f"{log} never said {line!r}:\n{log.read_text()}")
        time.sleep(0.05)


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)


def start_workers(
    count: int, root: Path, queue: str, prefetch: int
) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        args = [*CLI, "worker", f"--name=bench{index}", f"--queue={queue}", "--concurrency=1"]
        args += [f"--prefetch={prefetch}", f"--root={root}"]
        workers.append(spawn(args, root / f"worker-{index}.log"))
    for index in range(count):
        wait_for_line(root / f"worker-{index}.log", b" ready.")
    return workers


def group_cpu(processes: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds used so far by the process groups of ``processes`` (their pools included)."""
    groups = {process.pid for process in processes}
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # the process group
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(work: Callable[[], None], workers: list[subprocess.Popen[bytes]]) -> Run:
    cpu, other, began = own_cpu(), group_cpu(workers), time.perf_counter()
    work()
    wall = time.perf_counter() - began
    return Run(wall, own_cpu() - cpu, group_cpu(workers) - other)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()


def measure(n: int, jobs: int, executor: str, workers: int, prefetch: int = 1) -> Run:
    """One apply of ``n`` no-op actions."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "stack.yaml").write_text(flat_stack(n))
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        os.environ[config.CELERY_QUEUE_ENV] = queue
        started = start_workers(workers, root, queue, prefetch) if executor == "celery" else []
        try:
            with retrograde.open_context(f"sqlite:///{root}/state.db", cwd=root) as ctx:
                retrograde.stage(ctx, root / "stack.yaml")

                def apply() -> None:
                    report = retrograde.apply(ctx, jobs=jobs, executor=executor, message="bench")
                    assert not report.failed, report.failures

                return timed(apply, started)
        finally:
            stop(started)


# TaskFlow's worker-based engine


def taskflow_noop() -> type:
    """The no-op TaskFlow task (built here, so both ends name it ``bench_celery.…Noop``)."""
    from taskflow import task

    class Noop(task.Task):  # type: ignore[misc]
        def execute(self) -> None:
            return None

    return Noop


def taskflow_worker(url: str, exchange: str, topic: str) -> None:
    """Run one TaskFlow worker (one thread) until killed: the body of a worker process."""
    from taskflow.engines.worker_based import worker

    print("taskflow worker starting", flush=True)
    worker.Worker(exchange, topic, [taskflow_noop()], threads_count=1, url=url).run()


def start_taskflow_workers(
    count: int, root: Path, url: str, exchange: str
) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    code = "import sys; sys.path.insert(0, sys.argv[1]); import bench_celery as b;"
    code += " b.taskflow_worker(*sys.argv[2:])"
    processes, topics = [], []
    for index in range(count):
        topic = f"{exchange}-w{index}"
        log = root / f"taskflow-{index}.log"
        processes.append(spawn([sys.executable, "-c", code, str(BENCH), url, exchange, topic], log))
        topics.append(topic)
    for index in range(count):
        wait_for_line(root / f"taskflow-{index}.log", b"taskflow worker starting")
    time.sleep(TASKFLOW_SETTLE_SECONDS)
    return processes, topics


def measure_taskflow(n: int, workers: int) -> Run:
    """N independent no-op tasks through TaskFlow's worker-based engine on ``workers`` workers."""
    from taskflow import engines
    from taskflow.patterns import unordered_flow

    url = config.celery_broker()
    exchange = f"bench-tf-{uuid.uuid4().hex[:8]}"
    noop = taskflow_noop()
    flow = unordered_flow.Flow("bench").add(*(noop(name=f"r{i}") for i in range(n)))
    with tempfile.TemporaryDirectory() as tmp:
        started, topics = start_taskflow_workers(workers, Path(tmp), url, exchange)
        try:
            engine: Any = engines.load(
                flow,
                engine="worker-based",
                url=url,
                exchange=exchange,
                topics=topics,
                transition_timeout=3600,  # it sends every task at once; the default 60 s
            )  # times out the ones still queued after a minute, and the run never ends
            engine.compile()
            engine.prepare()
            return timed(engine.run, started)  # finding the workers included, as connecting is
        finally:
            stop(started)


def row(name: str, workers: int | str, n: int, run: Run) -> str:
    per = run.wall / n * 1000
    return (
        f"| {name} | {workers} | {run.wall:.2f} s | {per:.2f} ms | {n / run.wall:,.0f}"
        f" | {run.coordinator_cpu / n * 1000:.2f} ms | {run.workers_cpu / n * 1000:.2f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=300)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--prefetch", type=int, default=1, help="retrograde worker --prefetch")
    parser.add_argument("--no-taskflow", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="worker counts to run (repeatable; default: 1, 2 and 4)",
    )
    args = parser.parse_args()
    print(f"N = {args.n} no-op actions, --jobs {args.jobs}, load average {os.getloadavg()[0]:.1f}")
    print("| executor | workers | wall | per action | actions/s | coordinator CPU | workers CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    counts = tuple(args.workers or WORKER_COUNTS)
    for workers in counts:
        run = measure(args.n, args.jobs, "celery", workers, args.prefetch)
        print(row(f"retrograde celery, prefetch {args.prefetch}", workers, args.n, run), flush=True)
    print(row("retrograde threads", "-", args.n, measure(args.n, args.jobs, "threads", 0)))
    if not args.no_taskflow:
        for workers in counts:
            run = measure_taskflow(args.n, workers)
            print(row("TaskFlow WBE", workers, args.n, run), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
