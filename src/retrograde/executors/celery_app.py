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
* a fence: one key per action (store, apply, resource) in Redis holds the
  token of the submission the coordinator waits for, ``queued:TOKEN`` until a
  worker claims it (``running:TOKEN``). Before running, a worker claims the
  fence for its message's token; a stale message (one the coordinator gave up
  on, withdrew on an interrupt, already has the result of, or that a
  coordinator resuming the apply superseded with a new submission) finds
  another value or none, and never runs: it is dropped, acknowledged, unrun.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

TASK_NAME = "retrograde.run_action"
"""Run an action request, return its result (both JSON)."""

BUNDLE_TASK_NAME = "retrograde.run_actions"
"""Run several action requests of one queue, one after another, storing each one's result
under its own token (as if it had been sent alone); the bundle itself has no result."""

BUNDLE_LIMIT = 8
"""Most actions sent in one message."""

SHORT_ACTION_SECONDS = 0.25
"""Actions of a queue are bundled while its recent ones took less than this on average: the
actions of a bundle run one after another, which only costs nothing when they are short.
``RETROGRADE_CELERY_BUNDLE_UNDER`` replaces it (0: every action alone)."""

DELIVERY_LIMIT = 3
"""Redeliveries of one message (a worker lost while running it) before the broker drops it."""

RESULT_EXPIRES_SECONDS = 60
"""Results the coordinator never read (it died) leave Redis after this long; it reads (and
deletes) each within a moment of its arrival, so only a coordinator cut off from Redis for
longer loses one (the action then fails as lost and stays staged)."""

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

WITHDRAW_ALL = """
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then
    redis.call('DEL', key)
    taken[#taken + 1] = i
  end
end
return taken
"""
"""Coordinator side, on an interrupt: :data:`WITHDRAW` for many fences in one round trip;
the (1-based) positions of those taken back."""

RELEASE = """
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current == 'queued:' .. ARGV[i] or current == 'running:' .. ARGV[i] then
    redis.call('DEL', key)
  end
end
return 0
"""
"""Coordinator side, once results are read: drop each fence that still holds the token
given for it (a newer submission of the same action keeps its own)."""


def celery_app(
    broker: str, backend: str, *, visibility_seconds: float, backend_class: str | None = None
) -> Celery:
    """A Celery app on ``broker`` (RabbitMQ or Redis) with results in Redis ``backend``
    (through the result backend class ``backend_class``, by its dotted name, if given)."""
    url = f"{backend_class}+{backend}" if backend_class else backend
    app = Celery("retrograde", broker=broker, backend=url, set_as_current=False)
    app.conf.update(_settings(visibility_seconds))
    if broker.startswith(("amqps://", "pyamqps://")):
        # TLS checks that the certificate names the broker's host, not only who signed it
        # (None: the host of the URL, of each one with failover)
        app.conf.broker_use_ssl = {"server_hostname": None}
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


def fence_key(scope: str, apply_id: object, resource: str) -> str:
    """The fencing key of one action of one apply of the store ``scope`` names.

    ``scope`` (a digest of the store's URL) keeps coordinators of different
    stores that share one Redis (and the same apply ids) off each other's
    fences, while every coordinator of one store (an apply, then its
    ``resume`` from another process) shares them.
    """
    return f"{FENCE_PREFIX}{scope}:{apply_id}:{resource}"


def apply_fences(scope: str, apply_id: object) -> str:
    """The SCAN pattern of every fence of one apply (``scope`` is hex, the apply id a number)."""
    return f"{FENCE_PREFIX}{scope}:{apply_id}:*"
