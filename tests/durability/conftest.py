from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import retrograde


@pytest.fixture
def ctx(store_url: str, tmp_path: Path) -> Iterator[retrograde.Context]:
    """An open context on a fresh store, acting as principal ``tester`` in ``tmp_path``."""
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as context:
        yield context
