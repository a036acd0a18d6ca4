"""Opening a store by URL: the one entry point the commands use."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from retrograde.errors import StoreOutdatedError
from retrograde.storage.sql.database import create_store_engine, normalise_url, sqlite_read_only
from retrograde.storage.sql.driver_errors import mask_password, translated
from retrograde.storage.sql.schema import HEAD_REVISION
from retrograde.storage.sql.store import SqlStore
from retrograde.storage.sql.upgrade import current_revision, upgrade_to_head


def open_store(url: str) -> SqlStore:
    """Open (creating when needed) the store at ``url`` with its schema at the newest revision.

    A SQLite file's directory is created; ``postgresql://`` URLs use psycopg 3.
    An unusable URL or unreachable database raises :class:`StoreError` with a
    one-line message naming the URL, password masked.

    A store this process can only read (a SQLite file it cannot write; a
    PostgreSQL database in read-only mode) is opened for reading: its writes
    raise :class:`ReadOnlyStoreError`, and its schema is never upgraded: one
    older than this retrograde's is :class:`StoreOutdatedError`.
    """
    parsed = normalise_url(url)
    shown = mask_password(url)
    read_only = sqlite_read_only(parsed)
    engine = create_store_engine(parsed, shown, read_only=read_only)
    try:
        with translated(shown, "open"):
            _bring_up_to_date(engine, shown, read_only)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, url=parsed.render_as_string(hide_password=False), read_only=read_only)


def _bring_up_to_date(engine: Engine, shown: str, read_only: bool) -> None:
    """Upgrade the schema to head, unless the store cannot be written (then refuse if behind)."""
    with engine.connect() as conn:
        revision = current_revision(conn)
        if revision == HEAD_REVISION:
            return
        if read_only or _read_only_database(conn):
            raise StoreOutdatedError(shown, revision=revision, needed=HEAD_REVISION)
    upgrade_to_head(engine)


def _read_only_database(conn: Connection) -> bool:
    """Whether a PostgreSQL session is read-only (a standby, or read-only by default)."""
    if conn.dialect.name != "postgresql":
        return False
    setting = conn.execute(text("SELECT current_setting('transaction_read_only')")).scalar()
    return setting == "on"
