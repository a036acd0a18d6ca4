"""refresh on the Celery executor, with a real worker: the read gets the secret in plaintext
(sealed on the wire, opened with the worker's key file), and its fence is the store's."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

import retrograde
from retrograde.executors.celery_app import fence_key
from retrograde.model.sealed import is_sealed
from tests.celery.stacks import root_copy, stack_dir
from tests.celery.workers import Services, Workers
from tests.store_calls import load_state

READ_STACK = """\
types:
  db:
    version: 1
    inputs:
      password: {{type: string, secret: true}}
      marks: {{type: string}}
    actions:
      run: {{shell: "printf %s {{{{ inputs.password }}}} > {{{{ inputs.marks }}}}/password"}}
      read:
        shell: >-
          printf %s {{{{ inputs.password }}}} > {{{{ inputs.marks }}}}/seen; sleep 1;
          python3 -c 'import json, sys; print(json.dumps({{"password": open(sys.argv[1]).read()}}))'
          {{{{ inputs.marks }}}}/password
        timeout: 20
        queue_timeout: 20
resources:
  {name}: {{type: db, queue: {queue}, inputs: {{password: {password}, marks: {marks}}}}}
"""


@contextmanager
def _fence_watched(backend: str, key: str) -> Iterator[list[str]]:
    """``[key]`` once the fence ``key`` was seen in Redis while the block ran, else ``[]``."""
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        client = Redis.from_url(backend)
        try:
            while not stop.is_set() and not seen:
                if client.exists(key):
                    seen.append(key)
                time.sleep(0.01)
        finally:
            client.close()

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def _store_fence(ctx: retrograde.Context, name: str) -> str:
    """The fence key of ``name``'s read: no apply id, the scope of ``ctx``'s store."""
    return fence_key(hashlib.sha256(ctx.store.url.encode()).hexdigest()[:16], None, name)


def test_a_celery_read_gets_the_plaintext_under_the_stores_fence(
    ctx: retrograde.Context, celery_services: Services, celery_workers: Workers
) -> None:
    """No drift for an unchanged secret; the read ran with the plaintext and its fence key
    holds the store's scope; accepted drift is committed sealed."""
    queue = celery_workers.queue("refresh")
    marks = ctx.cwd / "marks"
    marks.mkdir()
    name, password = f"db-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    text = READ_STACK.format(name=name, queue=queue, password=password, marks=marks)
    stack = stack_dir(ctx.cwd, text)
    retrograde.apply(ctx, stack / "stack.yaml")
    celery_workers.start("w1", root_copy(stack, "w1"), queue)

    key = _store_fence(ctx, name)
    with _fence_watched(celery_services.backend, key) as seen:
        found = retrograde.refresh(ctx, executor="celery")

    assert (found.drift, found.failed) == ({}, {})
    assert (marks / "seen").read_text() == password
    assert seen == [key]

    changed = f"pw-{uuid.uuid4().hex}"
    (marks / "password").write_text(changed)
    accepted = retrograde.refresh(ctx, executor="celery", accept=True)
    drift = accepted.drift[name]["password"]
    assert (drift.committed, drift.observed) == ("***", "***")
    stored = load_state(ctx.store)[name].inputs["password"]
    assert is_sealed(stored) and ctx.keys.box().open(name, "password", stored) == changed
    assert retrograde.refresh(ctx, executor="celery").drift == {}


def test_a_celery_adopt_read_gets_the_plaintext_and_commits_the_observed_value_sealed(
    ctx: retrograde.Context, celery_services: Services, celery_workers: Workers
) -> None:
    """adopt --read on a worker: the read is given the file's secret, the store keeps the
    observed one sealed, under the store's fence."""
    queue = celery_workers.queue("adopt")
    marks = ctx.cwd / "marks"
    marks.mkdir()
    name, password = f"db-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    observed = f"pw-{uuid.uuid4().hex}"
    (marks / "password").write_text(observed)
    stack = stack_dir(
        ctx.cwd, READ_STACK.format(name=name, queue=queue, password=password, marks=marks)
    )
    celery_workers.start("w1", root_copy(stack, "w1"), queue)

    key = _store_fence(ctx, name)
    with _fence_watched(celery_services.backend, key) as seen:
        retrograde.adopt(ctx, stack / "stack.yaml", [name], read=True, executor="celery")

    assert (marks / "seen").read_text() == password
    assert seen == [key]
    stored = load_state(ctx.store)[name].inputs["password"]
    assert is_sealed(stored) and ctx.keys.box().open(name, "password", stored) == observed
