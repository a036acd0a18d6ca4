"""Bad stack files: one clear line, a non-zero exit, and stored state left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.commands.stacks import TYPES, V1, V2, write

BAD = {
    "yaml syntax": (TYPES + "resources:\n  node1: {type: node, inputs: {ip: [}\n", ":3"),
    "unknown type": (
        TYPES + "resources:\n  x: {type: nosuch, inputs: {}}\n",
        "nosuch",
    ),
    "unknown resource in connection": (
        TYPES + "resources:\n  k: {type: service, inputs: {ip: '${ghost.ip}'}}\n",
        "ghost",
    ),
    "unknown input in connection": (
        TYPES
        + "resources:\n  n: {type: node, inputs: {ip: 1.2.3.4}}\n"
        + "  k: {type: service, inputs: {ip: '${n.nosuch}'}}\n",
        "nosuch",
    ),
    "wrong value type": (
        TYPES + "resources:\n  k: {type: service, inputs: {ip: a, port: eighty}}\n",
        "port",
    ),
    "missing required input": (
        TYPES + "resources:\n  k: {type: service, inputs: {port: 1}}\n",
        "ip",
    ),
    "dependency cycle": (
        TYPES
        + "resources:\n"
        + "  a: {type: service, inputs: {ip: '${c.ip}'}}\n"
        + "  b: {type: service, inputs: {ip: '${a.ip}'}}\n"
        + "  c: {type: service, inputs: {ip: '${b.ip}'}}\n",
        "a -> b -> c -> a",
    ),
}


def _snapshot(invoke: Invoke) -> tuple[str, str, str]:
    return tuple(invoke(verb, "--json").output for verb in ("state", "diff", "log"))  # type: ignore[return-value]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_stack_is_one_line_and_changes_nothing(
    invoke: Invoke, tmp_path: Path, case: str
) -> None:
    """Each malformed stack gives one error line naming what and where, exit 1, nothing stored."""
    invoke("apply", write(tmp_path, "v1.yaml", V1).name, "--yes")
    invoke("stage", write(tmp_path, "v2.yaml", V2).name)
    before = _snapshot(invoke)
    text, expected = BAD[case]
    result = invoke("stage", write(tmp_path, "bad.yaml", text).name)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: bad.yaml")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert _snapshot(invoke) == before
    assert json.loads(before[1])["changes"]  # the staged log was not empty to begin with


def test_missing_file_is_an_error(invoke: Invoke) -> None:
    """Staging a file that does not exist fails with one line naming it."""
    result = invoke("stage", "nowhere.yaml")
    assert result.exit_code == 1
    assert "nowhere.yaml" in result.output
