"""Action requests shaped as the engine builds them, for the handler and executor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrograde.model.apply import ActionRequest


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
