"""The handler registry looks handlers up by kind and turns every problem into a value."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from retrograde.errors import HandlerError
from retrograde.handlers.ansible import AnsibleHandler
from retrograde.handlers.command import CommandHandler
from retrograde.handlers.noop import NoopHandler
from retrograde.handlers.python import PythonHandler
from retrograde.handlers.registry import HANDLERS, handler_for, run_action
from retrograde.handlers.shell import ShellHandler
from retrograde.model.apply import ActionRequest

from .conftest import RequestFactory


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("shell", ShellHandler),
        ("command", CommandHandler),
        ("python", PythonHandler),
        ("ansible", AnsibleHandler),
    ],
)
def test_handler_for_known_kinds(kind: str, cls: type[object]) -> None:
    """Each stack-file handler kind maps to its handler class, one shared instance per kind."""
    handler = handler_for(kind)
    assert isinstance(handler, cls)
    assert handler.kind == kind
    assert handler_for(kind) is handler


def test_every_registered_kind_matches_its_name() -> None:
    """The registry is keyed by each handler's own kind."""
    assert sorted(HANDLERS) == ["ansible", "command", "none", "python", "shell"]
    assert all(handler_for(kind).kind == kind for kind in HANDLERS)


def test_unknown_kind_raises_handler_error() -> None:
    """An unknown kind is a HandlerError naming it and the known kinds."""
    with pytest.raises(HandlerError, match=r"unknown handler kind 'puppet'.*shell"):
        handler_for("puppet")


def test_run_action_dispatches_to_the_handler(make_request: RequestFactory, tmp_path: Path) -> None:
    """run_action runs the request through the handler its kind names."""
    result = run_action(make_request("shell", "echo {{ inputs.ip }} > ip", inputs={"ip": "1.2"}))
    assert result["ok"]
    assert (tmp_path / "ip").read_text() == "1.2\n"


def test_noop_request_succeeds_at_once(make_request: RequestFactory, tmp_path: Path) -> None:
    """The ``none`` handler succeeds without running its target."""
    result = run_action(make_request(NoopHandler.kind, "touch should-not-exist", resource="db1"))
    assert result == {
        "resource": "db1",
        "ok": True,
        "exit_code": None,
        "error": "",
        "duration": 0.0,
    }
    assert not (tmp_path / "should-not-exist").exists()


def test_run_action_unknown_kind_is_a_failure_value(make_request: RequestFactory) -> None:
    """An unknown handler kind fails the action instead of raising."""
    result = run_action(make_request("puppet", "site.pp"))
    assert not result["ok"]
    assert result["resource"] == "web"
    assert "unknown handler kind 'puppet'" in result["error"]


@pytest.mark.parametrize(
    "request_value",
    [
        {"handler": "shell", "target": "true"},
        {"handler": "shell", "target": "true", "cwd": ".", "timeout": None, "context": None},
        {"handler": "python", "target": 3, "cwd": ".", "timeout": None, "context": {}},
        {},
        None,
    ],
)
def test_run_action_never_raises_on_malformed_requests(request_value: Any) -> None:
    """A malformed request (a bug upstream) still comes back as a failure value."""
    result = run_action(cast(ActionRequest, request_value))
    assert result["ok"] is False
    assert result["error"]
