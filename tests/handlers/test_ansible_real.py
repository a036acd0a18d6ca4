"""The ansible handler with real ansible-core: playbooks on localhost, real files, real failures."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import retrograde
from retrograde.handlers.ansible import _vars_pipe
from retrograde.model.apply import ApplyStatus
from tests import store_calls

SECRET = "pa'ss\"w$rd"

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
{tasks}
"""

WRITE = """    - copy:
        dest: "{{ path }}"
        content: "{{ greeting }} {{ password | length }}\\n"
"""

REMOVE = """    - file:
        path: "{{ path }}"
        state: absent
"""

FAIL = """    - fail:
        msg: "cannot configure {{ resource }} with {{ password }}"
"""


def _stack(directory: Path, greeting: str, *, present: bool = True, failing: bool = False) -> Path:
    (directory / "write.yml").write_text(PLAY.format(tasks=FAIL if failing else WRITE))
    (directory / "remove.yml").write_text(PLAY.format(tasks=REMOVE))
    resources = (
        f"""resources:
  motd:
    type: file
    inputs:
      path: {json.dumps(str(directory / "motd.txt"))}
      greeting: {greeting}
      password: {json.dumps(SECRET)}
"""
        if present
        else "resources: {}\n"
    )
    stack = directory / "stack.yaml"
    stack.write_text(
        """types:
  file:
    version: 1
    inputs:
      path: {type: string}
      greeting: {type: string}
      password: {type: string, secret: true}
    actions:
      run: {ansible: write.yml, timeout: 120}
      update: {ansible: write.yml, timeout: 120}
      remove: {ansible: remove.yml, timeout: 120}
"""
        + resources
    )
    return stack


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR for the handler and ansible: what they leave behind can be searched."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(directory / "ansible-local"))
    monkeypatch.setenv("ANSIBLE_REMOTE_TEMP", str(directory / "ansible-remote"))
    return directory


@pytest.mark.slow
def test_run_update_and_remove_write_real_files(
    ctx: retrograde.Context, tmp_path: Path, private_tmp: Path
) -> None:
    """Each action runs its playbook against localhost; the file follows the stack."""
    motd = tmp_path / "motd.txt"
    assert retrograde.apply(ctx, _stack(tmp_path, "hello")).status is ApplyStatus.SUCCEEDED
    assert motd.read_text() == f"hello {len(SECRET)}\n"
    assert retrograde.apply(ctx, _stack(tmp_path, "bonjour")).status is ApplyStatus.SUCCEEDED
    assert motd.read_text() == f"bonjour {len(SECRET)}\n"
    report = retrograde.apply(ctx, _stack(tmp_path, "x", present=False))
    assert report.status is ApplyStatus.SUCCEEDED
    assert not motd.exists()
    assert [c.action.value for c in store_calls.apply_commits(ctx.store, 3)] == ["remove"]
    leftovers = [
        p
        for p in private_tmp.rglob("*")
        if p.is_file() and SECRET in p.read_text("utf-8", "replace")
    ]
    assert leftovers == []


@pytest.mark.slow
def test_a_failing_task_keeps_its_message_with_the_secret_masked(
    ctx: retrograde.Context, tmp_path: Path, private_tmp: Path
) -> None:
    """ansible's failure message is the action's error; the secret in it shows as ***."""
    report = retrograde.apply(ctx, _stack(tmp_path, "hello", failing=True))
    assert report.status is ApplyStatus.FAILED
    error = str(report.failures["motd"]["error"])
    assert "cannot configure motd with ***" in error
    assert SECRET not in error
    stored = store_calls.get_apply(ctx.store, report.apply_id or 0).failures
    assert SECRET not in str(stored)
    assert "motd" in store_calls.load_staged(ctx.store)


def test_extra_vars_travel_through_a_private_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vars are a FIFO (0600, in a 0700 directory), readable once, gone afterwards."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with _vars_pipe({"password": SECRET}) as path:
        assert stat.S_ISFIFO(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.read_text() == '{"password": "pa\'ss\\"w$rd"}'
    assert not path.parent.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_an_unread_pipe_does_not_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A playbook that never opens its vars (it failed first) leaves no waiting writer."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with _vars_pipe({"password": SECRET}) as path:
        pass
    assert not path.exists()
    assert os.listdir(tmp_path) == []
