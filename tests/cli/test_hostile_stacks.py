"""`stage` on hostile stack files: exit 1, one line on stderr, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.planning.hostile import HOSTILE, SECRET, TYPES


def _nothing_stored(invoke: Invoke) -> None:
    assert json.loads(invoke("diff", "--json").output) == {"changes": {}}
    assert json.loads(invoke("log", "--json").output)["commits"] == []


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_stage_refuses_hostile_file_in_one_line(invoke: Invoke, tmp_path: Path, case: str) -> None:
    """Each hostile file: exit 1, exactly one stderr line naming where, no secret, empty log."""
    path, expected = HOSTILE[case](tmp_path)
    result = invoke("stage", str(path.relative_to(tmp_path)))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "stack/" in lines[0] and expected in lines[0]
    assert SECRET not in result.output and "Traceback" not in result.output
    assert result.stdout == ""
    _nothing_stored(invoke)


def test_allow_include_option_admits_a_directory(invoke: Invoke, tmp_path: Path) -> None:
    """`stage --allow-include DIR` lets the stack include from DIR; without it, refused."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "types.yaml").write_text(TYPES, encoding="utf-8")
    (tmp_path / "stack").mkdir()
    stack = tmp_path / "stack" / "stack.yaml"
    stack.write_text("include: [../common/types.yaml]\nresources:\n  w: {type: web}\n")
    refused = invoke("stage", "stack/stack.yaml")
    assert refused.exit_code == 1 and "--allow-include" in refused.stderr
    _nothing_stored(invoke)
    result = invoke("stage", "stack/stack.yaml", "--allow-include", "common", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"]["w"]["action"] == "run"


def test_stage_of_an_endless_device_stops_at_the_limit(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stage /dev/zero` reads one byte past the limit, then refuses in one line."""
    monkeypatch.setenv("RETROGRADE_MAX_STACK_BYTES", "65536")
    result = invoke("stage", "/dev/zero")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: /dev/zero: larger than the limit of 65536 bytes "
        "(set RETROGRADE_MAX_STACK_BYTES to change it)"
    ]
    _nothing_stored(invoke)
