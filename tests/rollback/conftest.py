from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import retrograde
from retrograde.cli.main import cli

Invoke = Callable[..., Result]


@pytest.fixture
def ctx(store_url: str, tmp_path: Path) -> Iterator[retrograde.Context]:
    """An open context on a fresh store, acting as principal ``tester`` in ``tmp_path``."""
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as context:
        yield context


@pytest.fixture
def invoke(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``retrograde --db <store> ARGS`` in-process, in ``tmp_path``, as principal ``tester``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETROGRADE_PRINCIPAL", "tester")
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--db", store_url, *args], input=input, catch_exceptions=False)

    return run
