"""Schema revision 0002 on a store that already has commits: hashes, input index, old payloads."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Table, column, select
from sqlalchemy import table as sa_table
from sqlalchemy.sql.expression import TableClause

from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.commit_builder import build_commit
from retrograde.model.query import LogQuery
from retrograde.storage.connect import open_store
from retrograde.storage.sql import rows
from retrograde.storage.sql.database import create_store_engine, normalise_url, writer
from retrograde.storage.sql.schema import commit_inputs, commits, resources
from retrograde.storage.sql.upgrade import alembic_config
from tests import store_calls
from tests.storage.samples import change, node, service, stamp


def _old_rows(built: list[Commit]) -> list[dict[str, object]]:
    """The commits as schema revision 0001 stored them: hex hash, unpacked payload."""
    found = []
    for commit in built:
        row = rows.commit_row(commit)
        row["hash"] = commit.hash
        row["payload"] = json.dumps(
            {
                "diff": commit.diff,
                "connections": commit.connections_json(),
                "tags": commit.tags.to_json(),
            }
        )
        found.append(row)
    return found


def _untyped(table: Table) -> TableClause:
    """``table`` without column types, so values go in as given (hex text for the hash)."""
    return sa_table(table.name, *(column(c.name) for c in table.columns))


def test_upgrading_a_0001_store_converts_hashes_and_indexes_inputs(store_url: str) -> None:
    """Commits written under 0001 read back equal, verify, and are found by input."""
    changes = [
        change("node1", None, node("10.0.0.1")),
        change("web", None, service("10.0.0.1")),
        change("node1", node("10.0.0.1"), node("10.0.0.2")),
        change("web", service("10.0.0.1"), service("10.0.0.2", port=8080)),
    ]
    built, previous = [], GENESIS_HASH
    for rev, one in enumerate(changes, 1):
        built.append(
            build_commit(
                one,
                rev=rev,
                apply_id=None,
                principal="old",
                timestamp=stamp(rev),
                message="",
                previous_hash=previous,
            )
        )
        previous = built[-1].hash
    engine = create_store_engine(normalise_url(store_url), store_url)
    try:
        with writer(engine).begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(_untyped(commits).insert(), _old_rows(built))
            conn.execute(
                resources.insert(),
                [
                    rows.state_row("node1", node("10.0.0.2")),
                    rows.state_row("web", service("10.0.0.2", port=8080)),
                ],
            )
    finally:
        engine.dispose()
    with open_store(store_url) as store:
        assert [store_calls.get_commit(store, c.rev) for c in built] == built
        assert store_calls.head(store) == (4, built[-1].hash)
        assert store_calls.verify(store).ok
        assert [c.rev for c in store_calls.log(store, LogQuery(input="port"))] == [4, 2]
        with store.engine.connect() as conn:
            indexed = {
                (n, r) for n, r in conn.execute(select(commit_inputs.c.name, commit_inputs.c.rev))
            }
            stored = conn.execute(select(commits.c.hash).where(commits.c.rev == 1)).scalar_one()
    assert indexed == {(name, c.rev) for c in built for name in c.diff}
    assert bytes(stored) == bytes.fromhex(built[0].hash)
