"""How the Celery executor groups actions into messages, and their deadlines in a bundle."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import Future

from kombu import Queue

from retrograde.executors.celery_app import BUNDLE_LIMIT, SHORT_ACTION_SECONDS
from retrograde.executors.celery_bundles import (
    RESULT_GRACE_SECONDS,
    Durations,
    Outgoing,
    bundles,
    message,
)
from retrograde.executors.celery_results import Pending
from retrograde.model.apply import ActionResult

VISIBILITY = 3600.0
_tokens = itertools.count()


def _action(queue: str = "a", *, timeout: float | None = 10.0, pickup: float = 30.0) -> Outgoing:
    token = str(next(_tokens))
    future: Future[ActionResult] = Future()
    pending = Pending(future, f"r{token}", queue, f"fence:{token}", token, 0.0, 0.0, pickup)
    running = timeout + 10.0 if timeout else VISIBILITY - pickup
    return Outgoing(pending, {"token": token}, Queue(queue), pickup, running, timeout)


def _sizes(ready: list[list[Outgoing]]) -> list[tuple[str, int]]:
    return [(bundle[0].pending.queue, len(bundle)) for bundle in ready]


def test_a_queue_without_results_or_with_long_actions_sends_each_alone() -> None:
    durations = Durations()
    assert durations.limit("a") == 1
    durations.add("a", SHORT_ACTION_SECONDS * 4)
    assert durations.limit("a") == 1
    for _ in range(10):
        durations.add("a", 0.01)
    assert durations.limit("a") == BUNDLE_LIMIT and durations.limit("b") == 1


def test_actions_of_one_queue_go_together_up_to_the_limit_each_queue_apart() -> None:
    actions = [_action("a") for _ in range(10)] + [_action("b"), _action("a")]

    ready, waiting = bundles(actions, lambda queue: 4, lambda queue: 0, VISIBILITY)

    assert _sizes(ready) == [("a", 4), ("a", 4), ("a", 3), ("b", 1)] and waiting == []
    assert [a.pending.token for a in ready[0]] == [a.pending.token for a in actions[:4]]


def test_a_partial_bundle_waits_while_two_full_ones_are_out() -> None:
    actions = [_action("a") for _ in range(6)] + [_action("b")]

    def out(queue: str) -> int:
        return 8 if queue == "a" else 7

    ready, waiting = bundles(actions, lambda queue: 4, out, VISIBILITY)

    assert _sizes(ready) == [("a", 4), ("b", 1)]
    assert waiting == actions[4:6]


def test_timed_actions_that_would_outlast_the_visibility_timeout_are_split() -> None:
    actions = [_action(timeout=1000.0, pickup=100.0) for _ in range(5)]  # 1,010 s each

    ready, _waiting = bundles(actions, lambda queue: 8, lambda queue: 0, VISIBILITY)

    assert [len(bundle) for bundle in ready] == [3, 2]


def test_in_a_bundle_each_action_waits_and_is_due_after_those_before_it() -> None:
    first, second = _action(timeout=10.0), _action(timeout=20.0)

    began = time.monotonic()
    sent = message("many", "one", [first, second], visibility=VISIBILITY, result_expires=60)

    assert sent.task == "many" and sent.options["args"] == [[first.request, second.request]]
    assert sent.options["kwargs"]["tokens"] == [first.pending.token, second.pending.token]
    assert sent.options["time_limit"] == (10 + 10) + (20 + 10)
    assert sent.options["argsrepr"] == repr((first.pending.resource, second.pending.resource))
    assert 0 <= second.pending.pickup_by - first.pending.pickup_by - first.running < 0.01
    due = second.pending.give_up_at - began
    assert 30 + 20 + 30 + RESULT_GRACE_SECONDS <= due < 30 + 20 + 30 + RESULT_GRACE_SECONDS + 1
    assert sent.options["expires"] == 30 + 20 + 30 + RESULT_GRACE_SECONDS
    assert [ttl for _key, _value, ttl in sent.fences] == [30 + 20 + 10 + 60, int(due) + 60]


def test_one_action_alone_is_the_single_task_under_its_token() -> None:
    action = _action(timeout=None)

    sent = message("many", "one", [action], visibility=VISIBILITY, result_expires=60)

    assert sent.task == "one" and sent.options["task_id"] == action.pending.token
    assert sent.options["args"] == [action.request] and sent.options["time_limit"] is None
    assert sent.options["expires"] == VISIBILITY + RESULT_GRACE_SECONDS
