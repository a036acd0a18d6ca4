"""The ansible handler runs ansible-playbook (a fake executable here) with extra vars."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from retrograde.handlers.ansible import AnsibleHandler

from .conftest import ATTACKS, RequestFactory

FAKE_PLAYBOOK = """#!/bin/sh
# Records how it was called, as the real ansible-playbook would be.
printf '%s\\n' "$@" > args.txt
vars_file="${3#@}"
cat "$vars_file" > vars.json
printf '%s' "$RETROGRADE_RESOURCE" > env.txt
if [ "$1" = fail.yml ]; then
    echo "fatal: [localhost]: FAILED! unreachable" >&2
    exit 2
fi
if [ "$1" = leak.yml ]; then
    cat vars.json >&2
    exit 2
fi
if [ "$1" = slow.yml ]; then
    sleep 30
fi
"""


@pytest.fixture
def fake_ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``ansible-playbook`` script placed first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ansible-playbook"
    script.write_text(FAKE_PLAYBOOK)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


@pytest.fixture
def ansible() -> AnsibleHandler:
    return AnsibleHandler()


def test_playbook_gets_inputs_and_action_as_extra_vars(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory, tmp_path: Path
) -> None:
    """The playbook runs in cwd with ``--extra-vars @FILE`` holding inputs and the action."""
    inputs = {"ip": "10.0.0.1", "port": 5000, "backends": ["a", "b"]}
    result = ansible.run(make_request("ansible", "site.yml", inputs=inputs))
    assert result["ok"], result
    args = (tmp_path / "args.txt").read_text().splitlines()
    assert args[:2] == ["site.yml", "--extra-vars"]
    assert args[2].startswith("@") and args[2].endswith(".json")
    variables = json.loads((tmp_path / "vars.json").read_text())
    assert variables == {**inputs, "resource": "web", "action": "run", "apply_id": 7}
    assert (tmp_path / "env.txt").read_text() == "web"


def test_extra_vars_file_is_removed_afterwards(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory, tmp_path: Path
) -> None:
    """The temporary vars file (it may hold secrets) does not outlive the action."""
    assert ansible.run(make_request("ansible", "site.yml", inputs={"password": "s3cret"}))["ok"]
    vars_path = Path((tmp_path / "args.txt").read_text().splitlines()[2].removeprefix("@"))
    assert not vars_path.exists()


def test_remove_passes_previous_inputs(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A remove (inputs null) gives the playbook the inputs the resource had."""
    request = make_request("ansible", "site.yml", action="remove", previous={"ip": "10.0.0.9"})
    assert ansible.run(request)["ok"]
    variables = json.loads((tmp_path / "vars.json").read_text())
    assert variables == {"ip": "10.0.0.9", "resource": "web", "action": "remove", "apply_id": 7}


def test_failed_playbook_reports_exit_code_and_stderr(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory
) -> None:
    """A failing playbook is a failure value with its exit code and stderr tail."""
    result = ansible.run(make_request("ansible", "fail.yml", inputs={}))
    assert not result["ok"]
    assert result["exit_code"] == 2
    assert "FAILED! unreachable" in result["error"]


def test_slow_playbook_times_out(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory
) -> None:
    """The shell handler's timeout applies to playbooks too."""
    result = ansible.run(make_request("ansible", "slow.yml", inputs={}, timeout=0.5))
    assert not result["ok"]
    assert "timed out after 0.5 s" in result["error"]
    assert result["duration"] < 20


def test_missing_ansible_playbook_is_a_failure(
    ansible: AnsibleHandler,
    make_request: RequestFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ansible-playbook on PATH the action fails and says why."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = ansible.run(make_request("ansible", "site.yml", inputs={}))
    assert not result["ok"]
    assert result["error"] == "ansible-playbook not found on PATH"


@pytest.mark.parametrize("value", ATTACKS)
def test_an_injection_string_arrives_as_an_extra_var(
    ansible: AnsibleHandler,
    fake_ansible: Path,
    make_request: RequestFactory,
    tmp_path: Path,
    value: str,
) -> None:
    """A value that would be shell syntax is one extra var, unchanged, and runs nothing."""
    result = ansible.run(make_request("ansible", "site.yml", inputs={"ip": value}))
    assert result["ok"], result
    assert json.loads((tmp_path / "vars.json").read_text())["ip"] == value
    assert (tmp_path / "args.txt").read_text().splitlines()[:2] == ["site.yml", "--extra-vars"]
    assert not (tmp_path / "PWNED").exists()


def test_a_playbook_printing_its_vars_shows_secrets_masked(
    ansible: AnsibleHandler, fake_ansible: Path, make_request: RequestFactory
) -> None:
    """A failing playbook that prints its extra vars shows the secret as ``***``."""
    secret = 'pa"ss\\word'
    request = make_request("ansible", "leak.yml", inputs={"password": secret}, secrets=[secret])
    result = ansible.run(request)
    assert result["exit_code"] == 2
    assert '"password": "***"' in result["error"]
    assert "pa" not in result["error"].replace('"password"', "")
