"""The SQL store's schema: its one Alembic path, on every back end."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from retrograde.storage.connect import open_store
from retrograde.storage.sql.database import create_store_engine, normalise_url
from retrograde.storage.sql.schema import HEAD_REVISION, metadata
from retrograde.storage.sql.store import SqlStore
from retrograde.storage.sql.upgrade import alembic_config, current_revision, upgrade_to_head
from tests import store_calls

from .samples import NODE, change, node


def test_migrations_create_exactly_the_tables_of_schema_py(store: SqlStore) -> None:
    """Opening a new store runs the migrations to head, and they match schema.py."""
    with store.engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_head_revision_constant_names_the_newest_migration() -> None:
    """The shortcut that skips Alembic compares against the real head revision."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_reopening_an_up_to_date_store_runs_no_migration(store_url: str) -> None:
    """A second open finds the schema at head, migrates nothing and keeps the data."""
    with open_store(store_url) as first:
        store_calls.replace_staged(first, [change("node1", None, node("10.0.0.1"))], [NODE])
    engine = create_store_engine(normalise_url(store_url), store_url)
    try:
        assert upgrade_to_head(engine) is False
    finally:
        engine.dispose()
    with open_store(store_url) as again:
        assert list(store_calls.load_staged(again)) == ["node1"]
