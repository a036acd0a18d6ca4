"""Secret values on the Celery wire, with real workers: sealed in the message, opened on the
worker with its key file, masked in the result that comes back."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kombu import Connection
from redis import Redis

import retrograde
from retrograde import config
from retrograde.executors.celery_app import action_queue, celery_app
from retrograde.model.apply import ApplyStatus
from retrograde.model.sealed import is_sealed, sealed_text
from tests.celery.stacks import root_copy, stack_dir
from tests.celery.workers import Services, Workers
from tests.store_calls import get_commits, load_staged

WAIT_SECONDS = 30.0

SECRET_STACK = """\
types:
  db:
    version: 1
    inputs:
      password: {{type: string, secret: true}}
      marks: {{type: string}}
    actions:
      run:
        shell: >-
          printf %s {{{{ inputs.password }}}} > {{{{ inputs.marks }}}}/seen-$RETROGRADE_WORKER;
          echo "connecting with {{{{ inputs.password }}}}"
        timeout: 20
        queue_timeout: {queue_timeout}
resources:
  {name}: {{type: db, queue: {queue}, inputs: {{password: {password}, marks: {marks}}}}}
"""


def _secret_stack(base: Path, queue: str, *, queue_timeout: float) -> tuple[Path, Path, str, str]:
    """A stack with one resource whose secret ``password`` is a fresh random text."""
    marks = base / "marks"
    marks.mkdir()
    name, password = f"db-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    text = SECRET_STACK.format(
        name=name, queue=queue, password=password, marks=marks, queue_timeout=queue_timeout
    )
    return stack_dir(base, text), marks, name, password


def _key_file(ctx: retrograde.Context) -> Path:
    with ctx.store.read() as tx:
        return config.secret_key_file(tx.keys.load().store_id)


def _take_message(services: Services, queue: str, taken: list[bytes]) -> None:
    """Take the first message sent to ``queue`` off it (no worker ever sees it): its raw body
    and headers, as the broker holds them."""
    app = celery_app(services.broker, services.backend, visibility_seconds=3600)
    deadline = time.monotonic() + WAIT_SECONDS
    with Connection(services.broker) as connection:
        channel = connection.default_channel
        action_queue(app, queue)(channel).declare()
        while time.monotonic() < deadline:
            message = channel.basic_get(queue, no_ack=True)
            if message is not None:
                body = message.body
                raw = body.encode() if isinstance(body, str) else bytes(body)
                taken.append(raw + json.dumps(message.headers).encode())
                return
            time.sleep(0.02)


@contextmanager
def _results_announced(services: Services) -> Iterator[list[tuple[str, bytes]]]:
    """Every result stored in the backend meanwhile (Celery announces each on its key's
    channel), as (key, payload)."""
    client = Redis.from_url(services.backend)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("celery-task-meta-*")
    seen: list[tuple[str, bytes]] = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message is not None:
                seen.append((message["channel"].decode(), message["data"]))

    thread = threading.Thread(target=listen)
    thread.start()
    try:
        yield seen
    finally:
        time.sleep(0.3)
        stop.set()
        thread.join()
        pubsub.close()
        client.close()


def test_a_secret_travels_sealed_is_opened_by_the_worker_and_comes_back_masked(
    ctx: retrograde.Context, celery_services: Services, celery_workers: Workers, tmp_path: Path
) -> None:
    """The raw message holds no plaintext; the worker (key given by --key-file) runs the
    handler with the plaintext; the result announced holds none either, and is deleted."""
    queue = celery_workers.queue("secrets")
    stack, marks, name, password = _secret_stack(ctx.cwd, queue, queue_timeout=2)

    taken: list[bytes] = []
    peek = threading.Thread(target=_take_message, args=(celery_services, queue, taken))
    peek.start()
    first = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")
    peek.join()

    assert first.status is ApplyStatus.FAILED and list(load_staged(ctx.store)) == [name]
    (raw,) = taken
    assert password.encode() not in raw
    stored = load_staged(ctx.store)[name].after
    assert stored is not None and is_sealed(stored.inputs["password"])
    assert sealed_text(stored.inputs["password"]).encode() in raw  # the staged ciphertext

    empty = tmp_path / "no-config"
    empty.mkdir()
    celery_workers.start(
        "w1",
        root_copy(stack, "w1"),
        queue,
        options=("--key-file", str(_key_file(ctx))),
        env={"XDG_CONFIG_HOME": str(empty)},  # the default place holds no key: the flag does
    )
    with _results_announced(celery_services) as announced:
        again = retrograde.apply(ctx, executor="celery")

    assert again.status is ApplyStatus.SUCCEEDED, again.failures
    assert (marks / "seen-w1").read_text() == password
    ours = [(key, data) for key, data in announced if name.encode() in data]
    assert ours and all(password.encode() not in data for _key, data in ours)
    stdout = json.loads(ours[-1][1])["result"]["output"]["stdout"]
    assert stdout == "connecting with ***\n"
    client = Redis.from_url(celery_services.backend)
    assert not any(client.exists(key) for key, _data in ours)  # read, then deleted
    (output,) = retrograde.logs(ctx, again.commits[0]).entries
    assert output.stdout == "connecting with ***\n"
    assert [c.resource for c in get_commits(ctx.store, again.commits)] == [name]


def test_a_worker_without_the_key_file_fails_the_action_naming_it(
    ctx: retrograde.Context, celery_workers: Workers, tmp_path: Path
) -> None:
    """No key file where the worker looks: one line naming it; the action stays staged."""
    queue = celery_workers.queue("keyless")
    stack, marks, name, _password = _secret_stack(ctx.cwd, queue, queue_timeout=20)
    missing = tmp_path / "elsewhere" / "store.key"
    celery_workers.start(
        "w1", root_copy(stack, "w1"), queue, env={"RETROGRADE_SECRET_KEY_FILE": str(missing)}
    )

    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")

    assert report.status is ApplyStatus.FAILED
    error = str(report.failures[name]["error"])
    assert str(missing) in error and "w1" in error and "\n" not in error
    assert not list(marks.glob("seen-*"))
    assert list(load_staged(ctx.store)) == [name]
