"""Ctrl-C during an apply: nothing more starts, what runs finishes and is committed, resume
does the rest, and no handler runs twice."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from retrograde.model.apply import ApplyStatus
from retrograde.storage.connect import open_store
from tests import store_calls
from tests.durability.processes import run, spawn

pytestmark = pytest.mark.slow

ACTIONS = 40

STACK = """
types:
  slow:
    version: 1
    inputs:
      n: {type: integer}
    actions:
      run: {shell: "echo {{ resource }} >> runs.log && sleep 0.3"}
resources:
""" + "".join(f"  r{i}: {{type: slow, inputs: {{n: {i}}}}}\n" for i in range(ACTIONS))


def _runs(directory: Path) -> list[str]:
    log = directory / "runs.log"
    return log.read_text().split() if log.exists() else []


def test_sigint_stops_dispatch_and_resume_repeats_nothing(store_url: str, tmp_path: Path) -> None:
    """After SIGINT at most --jobs handlers were running; each that ran has its commit."""
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    process = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes", "--jobs", "4", "--json")
    deadline = time.monotonic() + 60
    while len(_runs(tmp_path)) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    report = json.loads(out)
    assert report["status"] == "interrupted"
    ran = _runs(tmp_path)
    assert len(ran) < ACTIONS
    assert len(ran) == len(report["commits"]) == len(set(ran))
    with open_store(store_url) as store:
        assert store_calls.get_apply(store, 1).status is ApplyStatus.INTERRUPTED
    resumed = run(store_url, tmp_path, "resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["rerun"] == []
    ran = _runs(tmp_path)
    assert sorted(ran) == sorted(f"r{i}" for i in range(ACTIONS))
    with open_store(store_url) as store:
        assert store_calls.head(store)[0] == ACTIONS


STUCK = """
types:
  stuck:
    version: 1
    inputs:
      n: {type: integer}
    actions:
      run: {shell: "echo $$ >> pids.log && if [ -e stuck ]; then sleep 60; fi"}
resources:
  a: {type: stuck, inputs: {n: 1}}
  b: {type: stuck, inputs: {n: 2}}
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_second_signal_kills_running_handlers_after_the_grace_period(
    store_url: str, tmp_path: Path
) -> None:
    """A second SIGINT kills stuck handlers' process groups; the apply is left interrupted."""
    (tmp_path / "stack.yaml").write_text(STUCK, encoding="utf-8")
    (tmp_path / "stuck").touch()
    process = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes", "--jobs", "2", "--json")
    pids = tmp_path / "pids.log"
    deadline = time.monotonic() + 30
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 20, err
    assert process.returncode == 1, err
    assert "killed" in err
    report = json.loads(out)
    assert report["status"] == "interrupted"
    assert report["commits"] == [] and report["failed"] == []
    assert not any(_alive(int(pid)) for pid in pids.read_text().split())
    (tmp_path / "stuck").unlink()
    resumed = run(store_url, tmp_path, "resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(json.loads(resumed.stdout)["rerun"]) == ["a", "b"]
    with open_store(store_url) as store:
        assert store_calls.get_apply(store, 1).status is ApplyStatus.SUCCEEDED


def test_sigint_during_resume_leaves_it_interrupted_for_the_next_resume(
    store_url: str, tmp_path: Path
) -> None:
    """A resumed apply obeys SIGINT like a fresh one: stops dispatch, stays resumable."""
    (tmp_path / "stack.yaml").write_text(STACK, encoding="utf-8")
    first = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes", "--jobs", "2")
    while len(_runs(tmp_path)) < 2:
        time.sleep(0.02)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=60)
    resumed = spawn(store_url, tmp_path, "resume", "--jobs", "2", "--json")
    before = len(_runs(tmp_path))
    while len(_runs(tmp_path)) < before + 2:
        time.sleep(0.02)
    resumed.send_signal(signal.SIGINT)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 1, err
    assert json.loads(out).get("status") == "interrupted", out
    assert len(_runs(tmp_path)) < ACTIONS
    final = run(store_url, tmp_path, "resume", "--json")
    assert final.returncode == 0, final.stderr
    ran = _runs(tmp_path)
    assert sorted(ran) == sorted(f"r{i}" for i in range(ACTIONS)) and len(ran) == len(set(ran))
