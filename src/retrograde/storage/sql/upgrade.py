"""Bringing a store's schema to the newest revision, through Alembic, on every back end.

Opening a store happens on every CLI call, so the common case (already at
head) costs one cheap query and never loads Alembic's script directory.
Otherwise the upgrade runs in one write transaction that first takes a lock
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock),
so two processes opening a new store at once migrate it exactly once: the
second finds the first's work already done.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from retrograde.errors import StoreError
from retrograde.storage.sql.database import writer
from retrograde.storage.sql.schema import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "schema_versions"
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK_KEY = 0x7265_7472_6F67
"""PostgreSQL advisory lock key held while migrating (``retrog`` in hex)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the installed migrations, running on ``connection``.

    Alembic is imported here, not at module level: most commands open a store
    that is already at head and never need it.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the store, or None for a store without a schema."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    value = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return None if value is None else str(value)


def upgrade_to_head(engine: Engine) -> bool:
    """Migrate the store to :data:`HEAD_REVISION`; returns whether anything had to run.

    Driver errors propagate (the caller translates them); Alembic's own are
    raised as :class:`StoreError`.
    """
    with engine.connect() as connection:
        if current_revision(connection) == HEAD_REVISION:
            return False
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": MIGRATION_LOCK_KEY})
        before = current_revision(connection)
        _run_alembic_upgrade(connection)
        sealed = before is not None and before < SEALING_REVISION
        sealed = sealed and seal_clear_secrets_on_upgrade(connection)
        if before is not None and before < CHAINING_REVISION:
            _chain_existing(connection)
    if sealed:
        scrub(engine)
    return True


SEALING_REVISION = "0006"
"""The revision from which secret values are sealed at rest; older stores are sealed once."""

CHAINING_REVISION = "0012"
"""The revision from which type definitions, checkpoints and apply records are chained; an
older store's are chained once, after an ``upgrade`` entry naming its head, and after its
secrets are sealed (sealing rehashes the commits the entries are chained onto)."""


def _chain_existing(connection: Connection) -> None:
    from retrograde.storage.sql.chain_upgrade import chain_existing

    chain_existing(connection, f"schema revision {CHAINING_REVISION}")


def seal_clear_secrets_on_upgrade(connection: Connection) -> bool:
    """The data step of revision 0006, in the migration's transaction: seal what an older
    store held in clear (:mod:`retrograde.storage.sql.reencoding`)."""
    from retrograde.clock import utc_now
    from retrograde.storage.keys import box_in
    from retrograde.storage.sql.reencoding import seal_clear_secrets
    from retrograde.storage.sql.transaction import SqlTransaction

    tx = SqlTransaction(connection, writable=True)
    reason = "secret values sealed at rest (schema 0006)"
    return seal_clear_secrets(tx, lambda: box_in(tx), reason=reason, at=utc_now()) is not None


SCRUBBED_TABLES = ("commits", "commit_inputs", "resources", "snapshots", "staged")
"""The tables a sealing rewrites (what :func:`scrub` rebuilds on PostgreSQL)."""


def scrub(engine: Engine) -> None:
    """Leave no stored copy of the clear values a sealing has just replaced.

    An UPDATE or DELETE leaves the old bytes behind: in a SQLite file's free
    pages and write-ahead log, in the dead row versions of a PostgreSQL table
    until it is vacuumed. So a SQLite file is rebuilt (``VACUUM``) and its log
    emptied (``wal_checkpoint(TRUNCATE)``); on PostgreSQL each rewritten table
    is rewritten into a new file (``VACUUM (FULL)``, which frees the old one),
    outside any transaction. (PostgreSQL's own write-ahead log and backups made
    before are the server's to expire.)
    """
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        if engine.dialect.name == "sqlite":
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        connection.rollback()  # VACUUM cannot run in the transaction a query began
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in SCRUBBED_TABLES:
            autocommit.execute(text(f"VACUUM (FULL) {table}"))


def _run_alembic_upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(connection), "head")
    except CommandError as error:
        raise StoreError(f"cannot migrate the store's schema: {error}") from error
