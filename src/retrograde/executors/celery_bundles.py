"""Bundles: the actions ready for one queue at one time go in one message.

Every message costs the same on both ends (a publish, the worker pool's
hand-off, an acknowledgement, log lines), whatever it carries; for actions
that take milliseconds that is most of their cost. So the coordinator sends
the actions ready for the same queue together, up to :data:`BUNDLE_LIMIT` in
one message, while the recent actions of that queue were short
(:data:`SHORT_ACTION_SECONDS` on average: a bundle's actions run one after
another on one worker process, which for long actions would leave other
workers idle). Until a queue has results, and for long actions, each
action goes alone.

An action's deadlines count the actions before it in its bundle: it may wait
its ``queue_timeout`` plus their running time to be claimed, and its result
is due that much later, within the broker's visibility timeout (a bundle
whose timed actions would not fit in it is split; an action without a
``timeout`` may take up to that timeout, alone or bundled). Each keeps its
own fence (claimed when the worker starts it, so an interrupt still takes
back those not begun), its own token and its own result, stored as if it had
been sent alone.

To let bundles fill, a partial one waits while at least two full bundles of
that queue are out (sent, no result yet): their results come soon, and each
batch of results sends what then is ready.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kombu import Queue

from retrograde.executors.celery_app import BUNDLE_LIMIT, SHORT_ACTION_SECONDS
from retrograde.executors.celery_results import Pending
from retrograde.handlers.process import KILL_GRACE_SECONDS

RESULT_GRACE_SECONDS = 10.0
"""Slack past the worker's hard time limit before a missing result counts as a lost worker."""

DURATION_WEIGHT = 0.3
"""Weight of the latest result in a queue's average action duration."""


@dataclass(slots=True)
class Outgoing:
    """One action ready to go: what the coordinator waits for, and what the worker gets."""

    pending: Pending
    request: dict[str, Any]
    """As it goes on the wire."""
    queue: Queue
    pickup: float
    """How long it may wait for a worker (its ``queue_timeout``)."""
    running: float
    """How long it may run, with the worker's grace (its ``timeout``)."""
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Message:
    """What one ``send_task`` sends: the task, its arguments, and the fences to set first
    (key, value, TTL in seconds)."""

    task: str
    options: dict[str, Any]
    fences: list[tuple[str, str, int]]
    actions: list[Outgoing]


class Durations:
    """The average duration of recent actions per queue (not thread safe: the executor's
    lock guards it)."""

    def __init__(self, short: float = SHORT_ACTION_SECONDS) -> None:
        self._average: dict[str, float] = {}
        self._short = short

    def add(self, queue: str, seconds: float) -> None:
        known = self._average.get(queue)
        self._average[queue] = (
            seconds if known is None else known + DURATION_WEIGHT * (seconds - known)
        )

    def limit(self, queue: str) -> int:
        """Most actions of ``queue`` one message may carry now."""
        known = self._average.get(queue)
        return BUNDLE_LIMIT if known is not None and known < self._short else 1


def bundles(
    outgoing: list[Outgoing],
    limit: Callable[[str], int],
    out: Callable[[str], int],
    visibility: float,
) -> tuple[list[list[Outgoing]], list[Outgoing]]:
    """``outgoing`` in bundles to send now, in order, and what waits for a fuller bundle.

    Each bundle holds actions of one queue, at most ``limit(queue)``, whose
    deadlines together fit the broker's ``visibility`` timeout. A last partial
    bundle of a queue waits while ``out(queue)`` (its actions sent without a
    result yet) is at least twice its limit.
    """
    by_queue: dict[str, list[list[Outgoing]]] = {}
    for action in outgoing:
        chunks = by_queue.setdefault(action.pending.queue, [[]])
        last = chunks[-1]
        if last and (
            len(last) >= limit(action.pending.queue) or not _fits([*last, action], visibility)
        ):
            chunks.append(last := [])
        last.append(action)
    ready: list[list[Outgoing]] = []
    waiting: list[Outgoing] = []
    for queue, chunks in by_queue.items():
        most = limit(queue)
        if most > 1 and len(chunks[-1]) < most and out(queue) >= 2 * most:
            waiting.extend(chunks.pop())
        ready.extend(chunks)
    return ready, waiting


def message(
    task: str, single: str, bundle: list[Outgoing], *, visibility: float, result_expires: int
) -> Message:
    """The message of ``bundle`` (task ``single`` for one action alone, else ``task``), its
    actions' deadlines set from now (none past ``visibility``)."""
    now = time.monotonic()
    before = 0.0
    expires = 0.0
    fences: list[tuple[str, str, int]] = []
    for action in bundle:
        pending = action.pending
        pending.pickup_by = now + min(action.pickup + before, visibility)
        before += action.running
        due = min(action.pickup + before, visibility) + RESULT_GRACE_SECONDS
        pending.give_up_at = now + due
        expires = max(expires, due)
        fences.append((pending.fence, f"queued:{pending.token}", int(due) + result_expires))
    timeouts = [action.timeout for action in bundle]
    limits: tuple[int | None, int | None] = (None, None)
    if all(timeouts):
        soft = sum(math.ceil(t + KILL_GRACE_SECONDS) for t in timeouts if t)
        limits = (soft, sum(math.ceil(t + 2 * KILL_GRACE_SECONDS) for t in timeouts if t))
    resources = tuple(action.pending.resource for action in bundle)
    first = bundle[0]
    options: dict[str, Any] = {
        "queue": first.queue,  # a Queue: declared as workers do
        "expires": expires,
        "soft_time_limit": limits[0],
        "time_limit": limits[1],
        "argsrepr": repr(resources),  # what logs and monitors show: never the inputs
        "kwargsrepr": "{}",
    }
    if len(bundle) == 1:
        options["args"] = [first.request]
        options["kwargs"] = {"fence": first.pending.fence, "token": first.pending.token}
        options["task_id"] = first.pending.token
        return Message(single, options, fences, bundle)
    options["args"] = [[action.request for action in bundle]]
    options["kwargs"] = {
        "fences": [action.pending.fence for action in bundle],
        "tokens": [action.pending.token for action in bundle],
    }
    options["task_id"] = f"bundle:{first.pending.token}"
    return Message(task, options, fences, bundle)


def _fits(bundle: list[Outgoing], visibility: float) -> bool:
    """Whether a bundle's timed actions all finish within ``visibility`` of its sending (an
    untimed one may take up to it anyway)."""
    if not all(action.timeout for action in bundle):
        return True
    span = max(action.pickup for action in bundle) + sum(action.running for action in bundle)
    return span <= visibility
