"""A real ``retrograde apply --executor celery`` interrupted (SIGINT) or lost (SIGKILL), then
``retrograde resume``: what no worker started never runs, nothing commits twice.

Handlers append ``RESOURCE WORKER`` to a shared file when they start, so the
tests count how often each action ran, wherever it ran; while a file
``hold-RESOURCE`` exists, that resource's handler waits before it ends.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from retrograde.model.apply import ApplyStatus
from retrograde.storage.connect import open_store
from tests import store_calls
from tests.backends import postgresql_schema
from tests.celery.stacks import root_copy
from tests.celery.workers import Services, Workers
from tests.durability.processes import CLI

Popen = subprocess.Popen[str]

WAIT_SECONDS = 60.0

APPLY = ("apply", "stack.yaml", "--yes", "--executor", "celery", "--json")
RESUME = ("resume", "--executor", "celery", "--json")

STACK = """\
types:
  slow:
    version: 1
    inputs: {{pause: {{type: number}}}}
    actions:
      run:
        shell: >-
          echo "{{{{ resource }}}} $RETROGRADE_WORKER" >> {marks}/runs;
          sleep {{{{ inputs.pause }}}};
          while [ -e {marks}/hold-{{{{ resource }}}} ]; do sleep 0.05; done
        timeout: 60
resources:
{resources}"""


def _stack(base: Path, pauses: list[float]) -> Path:
    """A stack directory of resources r0, r1, ... pausing as long as ``pauses`` says."""
    directory = base / "coordinator"
    directory.mkdir()
    marks = base / "marks"
    marks.mkdir()
    resources = "".join(
        f"  r{i}: {{type: slow, inputs: {{pause: {pause}}}}}\n" for i, pause in enumerate(pauses)
    )
    (directory / "stack.yaml").write_text(STACK.format(marks=marks, resources=resources))
    return directory


def _runs(base: Path) -> Counter[str]:
    """How many times each resource's handler started, on any worker."""
    path = base / "marks" / "runs"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(line.split()[0] for line in lines)


def _wait_for_runs(base: Path, count: int, process: Popen) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while sum(_runs(base).values()) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"fewer than {count} handlers started"
        time.sleep(0.02)


def _retrograde(services: Services, queue: str, store_url: str, cwd: Path, *args: str) -> Popen:
    """A real ``retrograde --db STORE ARGS`` process in ``cwd`` sending actions to ``queue``."""
    env = services.environment(RETROGRADE_PRINCIPAL="tester", RETROGRADE_CELERY_QUEUE=queue)
    return subprocess.Popen(
        [*CLI, "--db", store_url, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_resumed(store_url: str, process: Popen) -> None:
    """Wait until ``resume`` journaled its first wave, then a little more (it sends right away)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with open_store(store_url) as store:
        while max(t.attempts for t in store_calls.load_tasks(store, 1)) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "resume never started its actions"
            time.sleep(0.05)
    time.sleep(1.5)


def _finish(process: Popen) -> tuple[int, dict[str, object], str]:
    out, err = process.communicate(timeout=WAIT_SECONDS * 2)
    return process.returncode, json.loads(out) if out.strip() else {}, err


def test_sigint_withdraws_what_no_worker_started_and_resume_runs_each_action_once(
    tmp_path: Path, celery_services: Services, celery_workers: Workers
) -> None:
    """SIGINT with 2 running and 4 sent but queued: the 4 never run; resume runs the rest once."""
    queue = celery_workers.queue("interrupted")
    stack = _stack(tmp_path, [1.5] * 10)
    celery_workers.start("w1", root_copy(stack, "w1"), queue, concurrency=2)
    store_url = f"sqlite:///{tmp_path}/state.db"
    apply = _retrograde(celery_services, queue, store_url, stack, *APPLY, "--jobs", "6")
    _wait_for_runs(tmp_path, 2, apply)
    apply.send_signal(signal.SIGINT)
    code, report, err = _finish(apply)

    assert code == 1, err
    assert report["status"] == "interrupted"
    ran = _runs(tmp_path)
    assert sum(ran.values()) == 2 == len(report["commits"])  # type: ignore[arg-type]
    time.sleep(2)  # the worker now takes the withdrawn messages: it must drop them unrun
    assert _runs(tmp_path) == ran
    with open_store(store_url) as store:
        assert store_calls.get_apply(store, 1).status is ApplyStatus.INTERRUPTED

    resume = _retrograde(celery_services, queue, store_url, stack, *RESUME)
    code, resumed, err = _finish(resume)

    assert code == 0, err
    assert resumed["rerun"] == []  # nothing was left started without its commit
    assert _runs(tmp_path) == Counter({f"r{i}": 1 for i in range(10)})
    with open_store(store_url) as store:
        assert store_calls.head(store)[0] == 10
        assert store_calls.get_apply(store, 1).status is ApplyStatus.SUCCEEDED


@pytest.mark.postgresql
def test_a_coordinator_killed_mid_apply_is_resumed_from_elsewhere_without_double_commits(
    tmp_path: Path, celery_services: Services, celery_workers: Workers
) -> None:
    """SIGKILL the apply with 2 actions running and 2 queued; resume in another directory
    revokes the queued ones (they never run), ignores the old results, commits each once."""
    queue = celery_workers.queue("resumed")
    stack = _stack(tmp_path, [0.2] * 8)
    held = [tmp_path / "marks" / f"hold-r{i}" for i in (0, 1)]
    for hold in held:
        hold.touch()  # r0 and r1 keep both workers busy until released
    for name in ("w1", "w2"):
        celery_workers.start(name, root_copy(stack, name), queue)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for store_url in postgresql_schema():
        apply = _retrograde(celery_services, queue, store_url, stack, *APPLY, "--jobs", "4")
        _wait_for_runs(tmp_path, 2, apply)
        apply.send_signal(signal.SIGKILL)
        apply.communicate(timeout=WAIT_SECONDS)
        assert _runs(tmp_path) == Counter({"r0": 1, "r1": 1})  # r2, r3 wait on the queue

        resume = _retrograde(celery_services, queue, store_url, elsewhere, *RESUME)
        _wait_until_resumed(store_url, resume)
        for hold in held:
            hold.unlink()  # the old r0 and r1 end; their workers then get the old r2, r3
        code, resumed, err = _finish(resume)

        assert code == 0, err
        assert {"r0", "r1", "r2", "r3"} <= set(resumed["rerun"])  # type: ignore[arg-type]
        ran = _runs(tmp_path)
        assert ran == Counter({"r0": 2, "r1": 2, **{f"r{i}": 1 for i in range(2, 8)}}), ran
        with open_store(store_url) as store:
            commits = store_calls.get_commits(store, list(range(1, 9)))
            assert sorted(c.resource for c in commits) == [f"r{i}" for i in range(8)]
            assert store_calls.head(store)[0] == 8
            assert store_calls.get_apply(store, 1).status is ApplyStatus.SUCCEEDED
