"""Faults of the Celery executor with real workers: lost workers, no workers, a broker down."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

import retrograde
from retrograde.errors import ExecutorError
from retrograde.model.apply import ApplyStatus
from tests.celery.stacks import SLOW, root_copy, stack_dir
from tests.celery.workers import Services, Worker, Workers
from tests.store_calls import get_commits, list_applies, load_staged

WAIT_SECONDS = 30.0


def _slow_stack(
    base: Path, queue: str, *, sleep: float, timeout: float, queue_timeout: float
) -> tuple[Path, Path]:
    marks = base / "marks"
    marks.mkdir()
    text = SLOW.format(
        queue=queue, marks=marks, sleep=sleep, timeout=timeout, queue_timeout=queue_timeout
    )
    return stack_dir(base, text), marks


def _wait_for_line(path: Path) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.02)
    return path.read_text().split()[0]


def _kill_running(workers: list[Worker], marks: Path) -> Worker:
    """SIGKILL the worker running the action, and its handler: a machine lost mid-action."""
    name = _wait_for_line(marks / "ran")
    handler = int(_wait_for_line(marks / "pid"))  # read first: a redelivery rewrites it
    (victim,) = [w for w in workers if w.name == name]
    victim.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(handler, signal.SIGKILL)
    return victim


def test_a_worker_killed_mid_action_is_replaced_by_one_on_the_same_queue(
    ctx: retrograde.Context, celery_workers: Workers
) -> None:
    """The message goes to the other worker; the action completes once and commits once."""
    queue = celery_workers.queue("shared")
    stack, marks = _slow_stack(ctx.cwd, queue, sleep=1.5, timeout=20, queue_timeout=20)
    started = [celery_workers.start(n, root_copy(stack, n), queue) for n in ("w1", "w2")]

    killer = threading.Thread(target=_kill_running, args=(started, marks))
    killer.start()
    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")
    killer.join()

    assert report.status is ApplyStatus.SUCCEEDED, report.failures
    ran = (marks / "ran").read_text().split()
    assert len(ran) == 2 and ran[0] != ran[1]  # started on both, in turn
    assert (marks / "done").read_text().split() == [ran[1]]  # finished once, on the survivor
    assert [c.resource for c in get_commits(ctx.store, report.commits)] == ["job"]


def test_with_no_worker_left_the_action_fails_stays_staged_and_a_later_apply_completes_it(
    ctx: retrograde.Context, celery_workers: Workers
) -> None:
    """A lost worker without a replacement: failure after the deadlines; the next apply runs it."""
    queue = celery_workers.queue("alone")
    stack, marks = _slow_stack(ctx.cwd, queue, sleep=1.5, timeout=2, queue_timeout=1)
    first = celery_workers.start("w1", root_copy(stack, "w1"), queue)

    killer = threading.Thread(target=_kill_running, args=([first], marks))
    killer.start()
    began = time.monotonic()
    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")
    killer.join()

    assert report.status is ApplyStatus.FAILED
    assert "lost" in str(report.failures["job"]["error"])
    assert time.monotonic() - began < 60
    assert list(load_staged(ctx.store)) == ["job"] and not report.commits

    celery_workers.start("w2", root_copy(stack, "w2"), queue)
    again = retrograde.apply(ctx, executor="celery")

    assert again.status is ApplyStatus.SUCCEEDED, again.failures
    assert (marks / "done").read_text().split() == ["w2"]  # the stale message never ran
    assert [c.resource for c in get_commits(ctx.store, again.commits)] == ["job"]


def test_an_action_no_worker_takes_fails_after_its_queue_timeout(
    ctx: retrograde.Context, celery_services: Services, celery_workers: Workers
) -> None:
    """Nothing consumes the queue: the action fails with the reason, after queue_timeout."""
    queue = celery_workers.queue("nobody")
    stack, _marks = _slow_stack(ctx.cwd, queue, sleep=0, timeout=30, queue_timeout=1)

    began = time.monotonic()
    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")

    assert report.status is ApplyStatus.FAILED
    assert "queue_timeout of 1s" in str(report.failures["job"]["error"])
    assert queue in str(report.failures["job"]["error"])
    assert 1 <= time.monotonic() - began < 30
    assert list(load_staged(ctx.store)) == ["job"]


def test_a_broker_that_is_down_is_one_error_before_anything_is_journaled(
    ctx: retrograde.Context, celery_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No broker at apply start: ExecutorError naming the broker; no apply is recorded."""
    monkeypatch.setenv("RETROGRADE_CELERY_BROKER", "amqp://guest:secret@127.0.0.1:1//")
    stack, _marks = _slow_stack(ctx.cwd, "anything", sleep=0, timeout=5, queue_timeout=5)

    with pytest.raises(ExecutorError) as raised:
        retrograde.apply(ctx, stack / "stack.yaml", executor="celery")

    assert "broker" in str(raised.value) and "127.0.0.1:1" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert list_applies(ctx.store) == []


def test_a_tls_backend_url_celery_refuses_is_one_error_naming_it(
    ctx: retrograde.Context, celery_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rediss://`` without ``ssl_cert_reqs``: ExecutorError with Celery's reason, no apply."""
    monkeypatch.setenv("RETROGRADE_CELERY_BACKEND", "rediss://:secret@127.0.0.1:6379/0")
    stack, _marks = _slow_stack(ctx.cwd, "anything", sleep=0, timeout=5, queue_timeout=5)

    with pytest.raises(ExecutorError) as raised:
        retrograde.apply(ctx, stack / "stack.yaml", executor="celery")

    assert "result backend" in str(raised.value) and "ssl_cert_reqs" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert list_applies(ctx.store) == []
