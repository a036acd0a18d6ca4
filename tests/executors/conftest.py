"""Builders for the action requests the executor tests submit."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrograde.model.apply import ActionRequest

NOOP_MODULE = "retrograde_test_noop_actions"


def action_request(
    handler: str, target: str, cwd: Path, resource: str, timeout: float | None = 20.0
) -> ActionRequest:
    """A run request for ``resource`` with empty inputs."""
    return {
        "handler": handler,
        "target": target,
        "cwd": str(cwd),
        "timeout": timeout,
        "context": {
            "action": "run",
            "resource": resource,
            "type": "service",
            "inputs": {},
            "previous": None,
            "diff": {},
            "apply_id": 1,
        },
    }


@pytest.fixture
def noop_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:function`` of a real do-nothing action function written to tmp_path."""
    lib = tmp_path / "pylib"
    lib.mkdir()
    (lib / f"{NOOP_MODULE}.py").write_text("def noop(context):\n    return None\n")
    monkeypatch.syspath_prepend(str(lib))
    return f"{NOOP_MODULE}:noop"
