"""The executor contract (:mod:`tests.executors.contract`) on ``celery``, with real workers.

Each test gets its own queue and a real ``retrograde worker`` (concurrency 4,
more than any contract test's capacity) whose ``--root`` is the test's
``tmp_path``: the coordinator's requests name that directory, and a worker runs
them in its own checkout of it, which here is the same directory. Python
action modules are written there too (a worker imports them from its root).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrograde.executors.base import Executor
from retrograde.executors.registry import executor_for
from tests.celery.workers import services, workers
from tests.executors.conftest import ActionModule
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
