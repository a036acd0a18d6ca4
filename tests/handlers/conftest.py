"""Builders for the action requests the handler tests send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrograde.model.apply import ActionRequest

RequestFactory = Callable[..., ActionRequest]

ATTACKS = (
    "x; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x'; touch PWNED; echo '",
    'x"; touch PWNED; echo "',
    "x\\",
    "a b\n\tc * ?  ~ #",
    "",
)
"""Input values that would run ``touch PWNED`` (or change the words) if pasted into a command."""


def build_request(
    handler: str,
    target: str,
    cwd: Path,
    *,
    action: str = "run",
    resource: str = "web",
    inputs: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    timeout: float | None = 20.0,
    secrets: list[str] | None = None,
) -> ActionRequest:
    """A request shaped as the engine builds it (the handler protocol of docs/design.md §5)."""
    diff = {
        name: {"from": (previous or {}).get(name), "to": value}
        for name, value in (inputs or {}).items()
    }
    return {
        "handler": handler,
        "target": target,
        "cwd": str(cwd),
        "timeout": timeout,
        "context": {
            "action": action,
            "resource": resource,
            "type": "service",
            "inputs": inputs,
            "previous": previous,
            "diff": diff,
            "apply_id": 7,
        },
        "secrets": secrets or [],
    }


@pytest.fixture
def make_request(tmp_path: Path) -> RequestFactory:
    """``make_request(handler, target, **fields)`` with ``cwd`` defaulting to ``tmp_path``."""

    def make(handler: str, target: str, cwd: Path | None = None, **fields: Any) -> ActionRequest:
        return build_request(handler, target, cwd or tmp_path, **fields)

    return make
