"""A known history, built once per back end through real applies with real shell handlers.

Four applies by three principals over the stacks of ``tests/commands/stacks.py``:

1. alice, "initial": run node1, node2, keystone1, haproxy (``V1``);
2. bob, "renumber node1": node1's ip changes and flows to keystone1 and haproxy;
3. alice, "move keystone": run keystone2, update haproxy, remove keystone1;
4. carol, "add a broken service": ``broken`` fails (no commit), ``extra`` commits.

Checkpoint ``renumbered`` names the revision after the second apply.

The stores are read-only for the tests that share them; tests that change a
store import :attr:`Known.export` into a fresh one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import transfer
from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.sql.database import normalise_url
from tests.commands.stacks import V1, V1_NEW_IP, V2, write
from tests.conftest import PG_URL_ENV, _postgresql_schema

MOVED = V2.replace("10.20.0.2", "10.20.0.12")
"""``V2`` (keystone moves to node2) with node1 keeping its new address."""

BROKEN = MOVED.replace(
    "resources:",
    """  broken:
    version: 1
    inputs:
      value: {type: any}
    actions:
      run: {shell: 'echo "no space left" >&2; exit 3'}
resources:
  broken: {type: broken, inputs: {value: 1}}
  extra: {type: node, tags: {node: node3}, inputs: {ip: 10.20.0.9}}""",
    1,
)

APPLIES = (
    ("alice", "initial", V1),
    ("bob", "renumber node1", V1_NEW_IP),
    ("alice", "move keystone", MOVED),
    ("carol", "add a broken service", BROKEN),
)


@dataclass(frozen=True)
class Known:
    """A store holding the known history, where it lives, and what it holds."""

    url: str
    work: Path
    commits: tuple[Commit, ...]
    """Every commit, oldest first."""
    export: Path
    """A plain export of the whole history."""

    def open(self, principal: str = "tester") -> retrograde.Context:
        return retrograde.open_context(self.url, cwd=self.work, principal=principal)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def known(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Known]:
    """The known history on each back end (see the module docstring)."""
    work = tmp_path_factory.mktemp("known")
    if request.param == "sqlite":
        yield _build(f"sqlite:///{work / 'state.db'}", work)
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set; set it to run the PostgreSQL back end")
    for url in _postgresql_schema(normalise_url(base)):
        yield _build(url, work)


def _build(url: str, work: Path) -> Known:
    for number, (principal, message, text) in enumerate(APPLIES):
        with retrograde.open_context(url, cwd=work, principal=principal) as ctx:
            retrograde.apply(ctx, write(work, f"stack{number}.yaml", text), message=message)
            if number == 1:
                retrograde.checkpoint(ctx, "renumbered", message="node1 has its new address")
    with retrograde.open_context(url, cwd=work, principal="tester") as ctx:
        retrograde.discard(ctx)
        commits = tuple(reversed(retrograde.log(ctx, LogQuery(limit=1000))))
        transfer.export(ctx, Path("known.jsonl"))
    return Known(url, work, commits, work / "known.jsonl")


@pytest.fixture(scope="module")
def known_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain export of the known history, built once per module on SQLite."""
    work = tmp_path_factory.mktemp("known-export")
    return _build(f"sqlite:///{work / 'state.db'}", work).export


@pytest.fixture
def fresh(store_url: str, tmp_path: Path) -> Iterator[retrograde.Context]:
    """An open context on an empty store, in ``tmp_path``, as principal ``tester``."""
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as context:
        yield context


@pytest.fixture
def second_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty store on the same back end as ``store_url``."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second' / 'state.db'}"
        return
    yield from _postgresql_schema(normalise_url(os.environ[PG_URL_ENV]))
