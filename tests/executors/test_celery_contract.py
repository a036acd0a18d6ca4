"""The executor contract (:mod:`tests.executors.contract`) on ``celery``, with real workers.

Each test gets its own queue and a real ``retrograde worker`` (concurrency 4,
more than any contract test's capacity) whose ``--root`` is the test's
``tmp_path``: the coordinator's requests name that directory, and a worker runs
them in its own checkout of it, which here is the same directory. Python
action modules are written there too (a worker imports them from its root).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrograde.executors.base import Executor
from retrograde.executors.registry import executor_for
from tests.celery.workers import services, workers
from tests.executors.conftest import ActionModule, action_request
from tests.executors.contract import ExecutorContract

WORKER_CONCURRENCY = 4

_modules = itertools.count()


class TestCeleryExecutor(ExecutorContract):
    """``celery``: requests go to a RabbitMQ queue, results come back through Redis."""

    @pytest.fixture(autouse=True)
    def _worker(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """A worker on a queue of this test only, rooted at ``tmp_path``."""
        found = services()
        monkeypatch.setenv("RETROGRADE_CELERY_BROKER", found.broker)
        monkeypatch.setenv("RETROGRADE_CELERY_BACKEND", found.backend)
        with workers(found) as started:
            queue = started.queue("contract")
            monkeypatch.setenv("RETROGRADE_CELERY_QUEUE", queue)
            started.start("contract", tmp_path, queue, concurrency=WORKER_CONCURRENCY)
            yield

    @pytest.fixture
    def action_module(self, tmp_path: Path) -> ActionModule:
        """Modules written into the stack directory (the worker's root), where it imports them."""

        def write(source: str) -> str:
            name = f"retrograde_celery_contract_actions_{next(_modules)}"
            (tmp_path / f"{name}.py").write_text(source)
            return f"{name}:act"

        return write

    def make_executor(self, jobs: int) -> Executor:
        return executor_for("celery", jobs)


def test_withdraw_takes_back_what_no_worker_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six sent to a worker running two at a time: withdraw resolves the four queued ones as
    ``withdrawn`` at once, and they never run; the two running ones succeed."""
    found = services()
    for name, value in (("BROKER", found.broker), ("BACKEND", found.backend)):
        monkeypatch.setenv(f"RETROGRADE_CELERY_{name}", value)
    with workers(found) as started:
        queue = started.queue("withdraw")
        monkeypatch.setenv("RETROGRADE_CELERY_QUEUE", queue)
        started.start("w", tmp_path, queue, concurrency=2)
        executor = executor_for("celery", 6)
        try:
            command = "touch {{ resource }}.ran; sleep 1"
            futures = {
                f"r{i}": executor.submit(action_request("shell", command, tmp_path, f"r{i}"))
                for i in range(6)
            }
            deadline = time.monotonic() + 60
            while len(list(tmp_path.glob("*.ran"))) < 2:
                assert time.monotonic() < deadline, "no action began"
                time.sleep(0.02)
            executor.withdraw()
            results = {name: future.result(timeout=60) for name, future in futures.items()}
        finally:
            executor.shutdown()
        time.sleep(1.5)  # the worker now gets the withdrawn messages: it drops them
    ran = sorted(path.name.removesuffix(".ran") for path in tmp_path.glob("*.ran"))
    taken = sorted(name for name, result in results.items() if result.get("withdrawn"))
    assert len(ran) == 2 and taken == sorted(set(results) - set(ran))
    assert all(results[name]["ok"] for name in ran)
    assert all(not results[name]["ok"] and "withdrawn" in results[name]["error"] for name in taken)
