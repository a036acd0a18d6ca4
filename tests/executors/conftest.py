"""Requests and real Python action modules for the executor tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from retrograde.model.apply import ActionRequest
from tests.action_requests import build_request

ActionModule = Callable[[str], str]
"""Writes a module's source and returns the ``module:act`` target of its ``act`` function."""

_modules = itertools.count()


def action_request(
    handler: str, target: str, cwd: Path, resource: str, timeout: float | None = 20.0
) -> ActionRequest:
    """A run request for ``resource`` with empty inputs."""
    return build_request(handler, target, cwd, resource=resource, inputs={}, timeout=timeout)


@pytest.fixture
def action_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ActionModule:
    """Real modules written to tmp_path and importable, each under a name of its own."""
    lib = tmp_path / "pylib"
    lib.mkdir()
    monkeypatch.syspath_prepend(str(lib))

    def write(source: str) -> str:
        name = f"retrograde_test_executor_actions_{next(_modules)}"
        (lib / f"{name}.py").write_text(source)
        return f"{name}:act"

    return write


@pytest.fixture
def noop_target(action_module: ActionModule) -> str:
    """``module:function`` of a real do-nothing action function written to tmp_path."""
    return action_module("def act(context):\n    return None\n")
