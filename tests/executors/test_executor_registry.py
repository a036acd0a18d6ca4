"""The executor registry builds executors by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrograde.errors import HandlerError
from retrograde.executors.registry import DEFAULT_EXECUTOR, EXECUTORS, executor_for
from retrograde.executors.threads import ThreadExecutor

from .conftest import action_request


def test_threads_executor_runs_actions(tmp_path: Path) -> None:
    """``threads`` (the default) builds a working thread executor with the given bound."""
    executor = executor_for(DEFAULT_EXECUTOR, 3)
    try:
        assert isinstance(executor, ThreadExecutor)
        assert executor.jobs == 3
        result = executor.submit(action_request("shell", "touch ran", tmp_path, "a")).result(60)
    finally:
        executor.shutdown()
    assert result["ok"]
    assert (tmp_path / "ran").exists()


def test_unknown_executor_is_a_handler_error() -> None:
    """An unknown executor name is refused, naming the known ones."""
    with pytest.raises(HandlerError, match=r"unknown executor 'dask'.*threads"):
        executor_for("dask", 2)
    assert "dask" not in EXECUTORS
