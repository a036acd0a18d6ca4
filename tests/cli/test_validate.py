"""``retrograde validate FILE``: exit codes, one line per problem, JSON, and no store at all."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrograde.cli.main import cli
from tests.commands.stacks import V1, write

BROKEN = """
types:
  node:
    version: 1
    inputs: {ip: {type: string}}
    actions:
      run: {shell: "echo {{ inputs.addr }}"}
      update: {shell: "echo {{ inputs.ip"}
      remove: {python: "no_such_module_anywhere:remove"}
resources:
  n1: {type: node, inputs: {ip: 10.0.0.1}}
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory, with no store named anywhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETROGRADE_DB", raising=False)
    return tmp_path


def test_valid_stack_exits_0_and_creates_no_store(here: Path) -> None:
    """A valid file says so; no .retrograde directory appears where the store would be."""
    write(here, "v1.yaml", V1)
    result = CliRunner().invoke(cli, ["validate", "v1.yaml"])
    assert (result.exit_code, result.output) == (0, "v1.yaml is valid.\n")
    assert not (here / ".retrograde").exists()


def test_problems_exit_1_one_line_each(here: Path) -> None:
    """Each problem is one line naming file, type, action and what; then the count."""
    write(here, "s.yaml", BROKEN)
    result = CliRunner().invoke(cli, ["validate", "s.yaml"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        "error: s.yaml, type 'node', action 'run': "
        "command template (line 1): inputs.addr is not an input of the type"
    )
    assert lines[1].startswith("error: s.yaml, type 'node', action 'update': command template")
    assert lines[2].startswith("error: s.yaml, type 'node', action 'remove': python handler")
    assert lines[3:] == ["s.yaml: 3 problems."]
    assert not (here / ".retrograde").exists()


def test_json_shape(here: Path) -> None:
    """--json: ok, problems and warnings, each with kind, message, type and action."""
    write(here, "s.yaml", BROKEN.replace("echo {{ inputs.addr }}", "echo {{ inputs.ip | raw }}"))
    result = CliRunner().invoke(cli, ["validate", "--json", "s.yaml"])
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["ok"] is False
    assert [(p["kind"], p["type"], p["action"]) for p in found["problems"]] == [
        ("template-syntax", "node", "update"),
        ("python-target", "node", "remove"),
    ]
    (warning,) = found["warnings"]
    assert (warning["kind"], warning["name"], warning["file"]) == (
        "unquoted-value",
        "inputs.ip",
        "s.yaml",
    )


def test_a_stack_error_is_a_problem_located_in_the_file(here: Path) -> None:
    """What stage refuses, validate reports on one line with its location, exit 1."""
    write(here, "s.yaml", V1.replace("type: lb", "type: nosuchtype"))
    result = CliRunner().invoke(cli, ["validate", "s.yaml"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("error: s.yaml:")
    assert "unknown type 'nosuchtype'" in result.output


def test_validate_runs_beside_a_read_only_store(tmp_path: Path) -> None:
    """A store that cannot be written (nor created) does not stop validate: it is never opened."""
    write(tmp_path, "v1.yaml", V1)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    env = {**os.environ, "RETROGRADE_DB": f"sqlite:///{locked / 'state.db'}"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "retrograde.cli.main", "validate", "v1.yaml"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        locked.chmod(stat.S_IRWXU)
    assert (result.returncode, result.stdout, result.stderr) == (0, "v1.yaml is valid.\n", "")
    assert list(locked.iterdir()) == []
    assert not (tmp_path / ".retrograde").exists()
