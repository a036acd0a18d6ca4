"""The Celery application that the coordinator and ``retrograde worker`` share.

Both ends build it from the same settings, so they agree on serialisation
(JSON only), on how queues are declared and on the fencing keys in Redis.

Delivery is at least once, made safe in three ways:

* late acknowledgement with ``task_reject_on_worker_lost``: a worker killed
  mid-action leaves its message unacknowledged, and the broker hands it to
  another worker on the same queue; prefetch 1 so a busy worker holds no
  other message hostage;
* on RabbitMQ, queues are quorum queues with a delivery limit: a message that
  keeps killing workers is dropped after :data:`DELIVERY_LIMIT` redeliveries
  (the coordinator reports the action failed when its deadline passes);
* a fence: before running, a worker claims the submission's fencing key
  (apply, resource, attempt token) in Redis, which exists while the
  coordinator waits for that submission. A stale message (one the coordinator
  gave up on or already has the result of) finds none, and never runs.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

TASK_NAME = "retrograde.run_action"
"""The one task: run an action request, return its result (both JSON)."""

DELIVERY_LIMIT = 3
"""Redeliveries of one message (a worker lost while running it) before the broker drops it."""

RESULT_EXPIRES_SECONDS = 600
"""Results the coordinator never read (it died) leave Redis after this long."""

FENCE_PREFIX = "retrograde:fence:"

CLAIM = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or current == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""
"""Worker side: turn ``queued:TOKEN`` (or, on a redelivery, ``running:TOKEN``) into
``running:TOKEN``; 0 when the key holds anything else (a stale message)."""

WITHDRAW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""
"""Coordinator side: take back a submission no worker has claimed (``queued:TOKEN``);
0 when a worker claimed it first."""


def celery_app(broker: str, backend: str, *, visibility_seconds: float) -> Celery:
    """A Celery app on ``broker`` (RabbitMQ or Redis) with results in Redis ``backend``."""
    app = Celery("retrograde", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(_settings(visibility_seconds))
    return app


def _settings(visibility_seconds: float) -> dict[str, Any]:
    return {
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "result_expires": RESULT_EXPIRES_SECONDS,
        "broker_transport_options": {"visibility_timeout": int(visibility_seconds)},
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "redis_socket_connect_timeout": 5,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "worker_hijack_root_logger": True,
        "worker_redirect_stdouts": False,
        "worker_enable_remote_control": False,
    }


def action_queue(app: Celery, name: str) -> Queue:
    """The queue ``name`` as both ends declare it (a quorum queue on RabbitMQ)."""
    arguments: dict[str, Any] = {}
    if app.conf.broker_url.startswith(("amqp", "pyamqp")):
        arguments = {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT}
    return Queue(
        name, Exchange(name, type="direct"), routing_key=name, queue_arguments=arguments or None
    )


def fence_key(apply_id: object, resource: str, token: str) -> str:
    """The fencing key of one submission (attempt) of one action of one apply.

    The token is unique per submission, so coordinators on different stores
    that share one Redis (and the same apply ids) never touch each other's.
    """
    return f"{FENCE_PREFIX}{apply_id}:{resource}:{token}"
