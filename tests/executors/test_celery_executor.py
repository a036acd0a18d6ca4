"""The Celery executor against the executor contract, with a real worker on a real broker.

``make_executor(jobs)`` is what a shared executor contract suite plugs in; the
checks below are the contract's basics: results, failure values, capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrograde.executors.base import Executor
from retrograde.executors.registry import executor_for
from retrograde.model.apply import ActionRequest
from tests.celery.workers import Services, services, workers


@pytest.fixture
def make_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int], Executor]]:
    """Builds Celery executors on a queue of this test, with one worker consuming it."""
    found: Services = services()
    monkeypatch.setenv("RETROGRADE_CELERY_BROKER", found.broker)
    monkeypatch.setenv("RETROGRADE_CELERY_BACKEND", found.backend)
    built: list[Executor] = []
    with workers(found) as started:
        queue = started.queue("contract")
        monkeypatch.setenv("RETROGRADE_CELERY_QUEUE", queue)
        root = tmp_path / "root"
        root.mkdir()
        started.start("contract", root, queue, concurrency=2)

        def make(jobs: int) -> Executor:
            executor = executor_for("celery", jobs)
            built.append(executor)
            return executor

        yield make
        for executor in built:
            executor.shutdown()


def _request(resource: str, command: str, cwd: Path) -> ActionRequest:
    return {
        "handler": "shell",
        "target": command,
        "cwd": str(cwd),
        "timeout": 30,
        "context": {
            "action": "run",
            "resource": resource,
            "type": "t",
            "inputs": {},
            "previous": None,
            "diff": {},
            "apply_id": 1,
        },
    }


def test_results_come_back_for_each_request(
    make_executor: Callable[[int], Executor], tmp_path: Path
) -> None:
    """Every future resolves to its own resource's successful result."""
    executor = make_executor(4)
    futures = {name: executor.submit(_request(name, "true", tmp_path)) for name in "abcdef"}
    results = {name: future.result(timeout=60) for name, future in futures.items()}
    assert all(result["ok"] for result in results.values())
    assert {name: r["resource"] for name, r in results.items()} == {n: n for n in "abcdef"}


def test_a_failing_action_is_a_failure_value(
    make_executor: Callable[[int], Executor], tmp_path: Path
) -> None:
    """A non-zero exit resolves the future with ok=False and the exit code, never raises."""
    executor = make_executor(2)
    result = executor.submit(_request("bad", "echo broken >&2; exit 7", tmp_path)).result(60)
    assert result["ok"] is False and result["exit_code"] == 7
    assert "broken" in result["error"]


def test_capacity_is_the_jobs_bound(make_executor: Callable[[int], Executor]) -> None:
    """capacity is what the runner keeps in flight: the --jobs value."""
    assert make_executor(3).capacity == 3
    with pytest.raises(Exception, match="at least 1"):
        make_executor(0)
