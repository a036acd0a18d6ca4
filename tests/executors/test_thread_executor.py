"""The thread executor runs real actions on a bounded pool and returns results in futures."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrograde.errors import HandlerError
from retrograde.executors.threads import ThreadExecutor

from .conftest import action_request

WAIT_FOR_PEER = "touch {mine}.ready; while [ ! -e {peer}.ready ]; do sleep 0.02; done"
"""Each command signals it started, then waits for the other: only parallel runs finish."""


def test_many_noop_python_actions_all_succeed(noop_target: str, tmp_path: Path) -> None:
    """200 python actions on 4 threads all succeed, each result naming its resource."""
    with ThreadExecutor(jobs=4) as executor:
        futures = [
            executor.submit(action_request("python", noop_target, tmp_path, f"r{i}"))
            for i in range(200)
        ]
        results = [future.result(timeout=60) for future in futures]
    assert all(result["ok"] for result in results)
    assert [result["resource"] for result in results] == [f"r{i}" for i in range(200)]


def test_actions_run_in_parallel(tmp_path: Path) -> None:
    """Two shell actions that each wait for the other both succeed with jobs=2."""
    with ThreadExecutor(jobs=2) as executor:
        first = executor.submit(
            action_request("shell", WAIT_FOR_PEER.format(mine="a", peer="b"), tmp_path, "a")
        )
        second = executor.submit(
            action_request("shell", WAIT_FOR_PEER.format(mine="b", peer="a"), tmp_path, "b")
        )
        results = [first.result(timeout=60), second.result(timeout=60)]
    assert [result["ok"] for result in results] == [True, True], results


def test_failures_come_back_in_the_future(tmp_path: Path) -> None:
    """A failing action resolves its future to a failure value rather than an exception."""
    executor = ThreadExecutor(jobs=1)
    try:
        future = executor.submit(action_request("shell", "exit 5", tmp_path, "db"))
        bad_kind = executor.submit(action_request("chef", "x", tmp_path, "web"))
        result, unknown = future.result(timeout=60), bad_kind.result(timeout=60)
    finally:
        executor.shutdown()
    assert (result["ok"], result["exit_code"]) == (False, 5)
    assert (unknown["ok"], unknown["resource"]) == (False, "web")


def test_shutdown_waits_for_submitted_actions(tmp_path: Path) -> None:
    """Actions submitted before shutdown finish before shutdown returns."""
    executor = ThreadExecutor(jobs=2)
    futures = [
        executor.submit(action_request("shell", f"sleep 0.2; touch done{i}", tmp_path, f"r{i}"))
        for i in range(4)
    ]
    executor.shutdown()
    assert all(future.done() for future in futures)
    assert sorted(path.name for path in tmp_path.glob("done*")) == [f"done{i}" for i in range(4)]


@pytest.mark.parametrize("jobs", [0, -1])
def test_jobs_below_one_is_refused(jobs: int) -> None:
    """A pool without workers would hang every apply, so it is a HandlerError."""
    with pytest.raises(HandlerError, match="jobs must be at least 1"):
        ThreadExecutor(jobs=jobs)
