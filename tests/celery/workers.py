"""Real ``retrograde worker`` processes for the Celery tests: start, wait for `ready`, kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BROKER_ENV = "RETROGRADE_TEST_CELERY_BROKER"
BACKEND_ENV = "RETROGRADE_TEST_CELERY_BACKEND"
CLI = [sys.executable, "-m", "retrograde.cli.main"]
READY_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Services:
    """The broker and result backend a test run was told to use."""

    broker: str
    backend: str

    def environment(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RETROGRADE_")}
        env["RETROGRADE_CELERY_BROKER"] = self.broker
        env["RETROGRADE_CELERY_BACKEND"] = self.backend
        env.update(extra)
        return env


def services() -> Services:
    """The services named by the environment; skips (one reason) when they are not named,
    fails when they are named but cannot be reached."""
    broker, backend = os.environ.get(BROKER_ENV), os.environ.get(BACKEND_ENV)
    if not broker or not backend:
        pytest.skip(f"{BROKER_ENV} and {BACKEND_ENV} are not set; set them to run Celery tests")
    from kombu import Connection
    from redis import Redis

    try:
        with Connection(broker, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
        Redis.from_url(backend, socket_connect_timeout=5).ping()
    except Exception as error:
        pytest.fail(f"{BROKER_ENV}/{BACKEND_ENV} are set but unusable: {error}")
    return Services(broker, backend)


@dataclass
class Worker:
    name: str
    root: Path
    process: subprocess.Popen[str]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (its whole process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Workers:
    """Starts workers for one test; stops them and deletes the test's queues afterwards."""

    services: Services
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    started: list[Worker] = field(default_factory=list)
    queues: set[str] = field(default_factory=set)

    def queue(self, name: str) -> str:
        """A queue name of this test only (parallel tests never share a queue)."""
        unique = f"{name}-{self.suffix}"
        self.queues.add(unique)
        return unique

    def start(
        self,
        name: str,
        root: Path,
        *queues: str,
        concurrency: int = 1,
        options: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> Worker:
        """A worker ``name`` on ``queues``, with extra command-line ``options`` and
        environment ``env`` (added to the services')."""
        log = root.parent / f"{name}-{self.suffix}.log"
        self.queues.update(queues)
        args = [*CLI, "worker", "--name", name, "--root", str(root), *options]
        args += [f"--queue={','.join(queues)}", f"--concurrency={concurrency}"]
        with log.open("w") as out:
            process = subprocess.Popen(
                args,
                env=self.services.environment(**(env or {})),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        worker = Worker(name, root, process, log)
        self.started.append(worker)
        _wait_ready(worker)
        return worker

    def stop(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.kill()
        from kombu import Connection

        with Connection(self.services.broker) as connection:
            channel = connection.default_channel
            for name in self.queues:
                with contextlib.suppress(Exception):
                    channel.queue_delete(name)
                    channel.exchange_delete(name)


def _wait_ready(worker: Worker) -> None:
    """Wait for Celery's `ready` line; fail with the log if the worker ends or never gets there."""
    deadline = time.monotonic() + READY_SECONDS
    while " ready." not in worker.log.read_text():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"worker {worker.name} not ready:\n{worker.log.read_text()}")
        time.sleep(0.05)


@contextlib.contextmanager
def workers(found: Services) -> Iterator[Workers]:
    started = Workers(found)
    try:
        yield started
    finally:
        started.stop()
