"""The job table: a refusal raised to the request, old finished jobs forgotten, shutdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import retrograde
from retrograde.engine.cancel import CancelToken
from retrograde.engine.runner import Progress
from retrograde.errors import StoreLockedError
from retrograde.server.jobs import KEPT_JOBS, Jobs
from retrograde.storage.base import Store


def finished_with(apply_id: int) -> Any:
    def work(_progress: Progress, _cancel: CancelToken) -> tuple[int | None, dict[str, Any]]:
        return apply_id, {"apply_id": apply_id, "status": "succeeded"}

    return work


def test_only_the_last_finished_jobs_keep_their_events(store: Store, tmp_path: Path) -> None:
    """After KEPT_JOBS + 2 jobs the first two are gone; the last one's report is kept."""
    jobs = Jobs()
    ctx = retrograde.Context(store=store, principal="t", cwd=tmp_path)
    for apply_id in range(1, KEPT_JOBS + 3):
        job = jobs.start("apply", ctx, finished_with(apply_id))
        assert job.thread is not None
        job.thread.join()
    assert jobs.get(1) is None and jobs.get(2) is None
    last = jobs.get(KEPT_JOBS + 2)
    assert last is not None and [e.name for e in last.since(0)[0]] == ["report"]


def test_a_refusal_before_the_run_begins_is_raised_to_the_caller(
    store: Store, tmp_path: Path
) -> None:
    """Work that raises before it has an apply id raises in start(), as the verb would."""

    def locked(_progress: Progress, _cancel: CancelToken) -> tuple[int | None, dict[str, Any]]:
        raise StoreLockedError("apply", principal="p", host="h", pid=1, since="now")

    ctx = retrograde.Context(store=store, principal="t", cwd=tmp_path)
    with pytest.raises(StoreLockedError):
        Jobs().start("apply", ctx, locked)


def test_after_cancel_all_no_job_starts(store: Store, tmp_path: Path) -> None:
    """A server shutting down refuses new applies (409 over HTTP)."""
    jobs = Jobs()
    jobs.cancel_all()
    ctx = retrograde.Context(store=store, principal="t", cwd=tmp_path)
    with pytest.raises(retrograde.RetrogradeError, match="shutting down"):
        jobs.start("apply", ctx, finished_with(1))
