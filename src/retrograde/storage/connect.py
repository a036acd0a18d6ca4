"""Opening a store by URL: the one entry point the commands use."""

from __future__ import annotations

from retrograde.storage.sql.database import create_store_engine, normalise_url
from retrograde.storage.sql.driver_errors import mask_password, translated
from retrograde.storage.sql.store import SqlStore
from retrograde.storage.sql.upgrade import upgrade_to_head


def open_store(url: str) -> SqlStore:
    """Open (creating when needed) the store at ``url`` with its schema at the newest revision.

    A SQLite file's directory is created; ``postgresql://`` URLs use psycopg 3.
    An unusable URL or unreachable database raises :class:`StoreError` with a
    one-line message naming the URL, password masked.
    """
    parsed = normalise_url(url)
    shown = mask_password(url)
    engine = create_store_engine(parsed, shown)
    try:
        with translated(shown, "open"):
            upgrade_to_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, url=parsed.render_as_string(hide_password=False))
