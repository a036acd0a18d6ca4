"""The executor contract (:mod:`tests.executors.contract`) on every executor retrograde has."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrograde.executors.base import Executor
from retrograde.executors.threads import ThreadExecutor
from tests.executors.conftest import action_request
from tests.executors.contract import ExecutorContract


class TestThreadExecutor(ExecutorContract):
    """``threads``: a bounded pool of in-process threads."""

    def make_executor(self, jobs: int) -> Executor:
        return ThreadExecutor(jobs)

    def test_submitting_after_shutdown_is_a_runtime_error(self, tmp_path: Path) -> None:
        """A caller that submits to a shut-down pool has a bug; it is told so at once."""
        executor = ThreadExecutor(1)
        executor.shutdown()
        with pytest.raises(RuntimeError):
            executor.submit(action_request("shell", "touch ran", tmp_path, "a"))
        assert not (tmp_path / "ran").exists()
