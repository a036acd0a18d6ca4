"""Bundles (several actions in one message) over real workers: each action runs and commits
once, also when the worker running a bundle is killed midway."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

import retrograde
from retrograde.model.apply import ApplyStatus
from tests.celery.stacks import root_copy, stack_dir
from tests.celery.workers import Worker, Workers
from tests.store_calls import get_commits

WAIT_SECONDS = 60.0
QUICK = 40

STACK = """\
types:
  quick:
    version: 1
    inputs: {{marks: {{type: string}}, after: {{type: string, default: ""}}}}
    actions:
      run:
        shell: 'echo "$RETROGRADE_WORKER" >> {{{{ inputs.marks }}}}/ran-{{{{ resource }}}}'
        timeout: 20
  slow:
    version: 1
    inputs: {{marks: {{type: string}}, after: {{type: string}}}}
    actions:
      run:
        shell: >-
          echo $$ > {{{{ inputs.marks }}}}/pid;
          echo "$RETROGRADE_WORKER" >> {{{{ inputs.marks }}}}/ran-{{{{ resource }}}};
          sleep 2;
          echo "$RETROGRADE_WORKER" >> {{{{ inputs.marks }}}}/done
        timeout: 20
resources:
{resources}
"""


def _stack(base: Path, queue: str) -> tuple[Path, Path]:
    """``QUICK`` quick actions and one slow one; all but the first quick one wait for it, so
    they become ready together once a duration of the queue is known, and go in bundles."""
    marks = base / "marks"
    marks.mkdir()
    after = "${q00.marks}"  # a connection: ready once q00 has committed
    lines = [f"  q00: {{type: quick, queue: {queue}, inputs: {{marks: {marks}}}}}"]
    lines += [
        f'  q{i:02}: {{type: quick, queue: {queue}, inputs: {{marks: {marks}, after: "{after}"}}}}'
        for i in range(1, QUICK)
    ]
    lines.append(
        f'  slow: {{type: slow, queue: {queue}, inputs: {{marks: {marks}, after: "{after}"}}}}'
    )
    return stack_dir(base, STACK.format(resources="\n".join(lines))), marks


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.02)
    return path.read_text().split()[0]


def _kill_mid_bundle(workers: list[Worker], marks: Path, killed: list[Worker]) -> None:
    """Once the slow action has run a second (what ran before it in its bundle has reported),
    SIGKILL its worker and its handler."""
    name = _wait_for(marks / "ran-slow")
    handler = int(_wait_for(marks / "pid"))
    time.sleep(1.0)
    (victim,) = [w for w in workers if w.name == name]
    victim.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(handler, signal.SIGKILL)
    killed.append(victim)


def test_a_worker_killed_mid_bundle_leaves_the_rest_of_it_to_another(
    ctx: retrograde.Context, celery_workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle goes to the other worker: what had finished is not run again, the killed
    action runs again there, the rest once; every action commits once."""
    # Bundle however long the quick shell actions take on a loaded machine.
    monkeypatch.setenv("RETROGRADE_CELERY_BUNDLE_UNDER", "30")
    queue = celery_workers.queue("bundles")
    stack, marks = _stack(ctx.cwd, queue)
    started = [celery_workers.start(n, root_copy(stack, n), queue) for n in ("w1", "w2")]

    killed: list[Worker] = []
    killer = threading.Thread(target=_kill_mid_bundle, args=(started, marks, killed))
    killer.start()
    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery", jobs=32)
    killer.join()

    assert report.status is ApplyStatus.SUCCEEDED, report.failures
    (victim,) = killed
    received = [line for line in victim.log.read_text().splitlines() if "] received" in line]
    assert "retrograde.run_actions[" in received[-1]  # it was killed running a bundle
    ran = (marks / "ran-slow").read_text().split()
    assert len(ran) == 2 and ran[0] == victim.name != ran[1]
    assert (marks / "done").read_text().split() == [ran[1]]
    for i in range(QUICK):
        assert len((marks / f"ran-q{i:02}").read_text().split()) == 1, f"q{i:02} ran twice"
    resources = [c.resource for c in get_commits(ctx.store, report.commits)]
    assert sorted(resources) == sorted([f"q{i:02}" for i in range(QUICK)] + ["slow"])
