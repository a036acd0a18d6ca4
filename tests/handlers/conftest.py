"""Fixtures and hostile values for the handler tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrograde.model.apply import ActionRequest
from tests.action_requests import build_request

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


@pytest.fixture
def make_request(tmp_path: Path) -> RequestFactory:
    """``make_request(handler, target, **fields)`` with ``cwd`` defaulting to ``tmp_path``."""

    def make(handler: str, target: str, cwd: Path | None = None, **fields: Any) -> ActionRequest:
        return build_request(handler, target, cwd or tmp_path, **fields)

    return make
