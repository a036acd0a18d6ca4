from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from retrograde.cli.main import cli

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``retrograde --db <store> ARGS`` in-process, in ``tmp_path``, as principal ``tester``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETROGRADE_PRINCIPAL", "tester")
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--db", store_url, *args], input=input, catch_exceptions=False)

    return run
