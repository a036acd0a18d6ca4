"""The error for a write that waited out the busy timeout: who holds the store, if anyone knows.

The database is held by another process's open transaction (SQLite's write
lock, PostgreSQL's row lock on ``store_lock``). The store lock row, read in a
short read transaction (reads never wait for that transaction), usually names
that process: an apply frozen in the middle of a commit, say. A lock row that
cannot be read leaves the error without a name rather than hiding it.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from retrograde.errors import StoreBusyError
from retrograde.model.journal import LockHolder
from retrograde.storage.sql.database import busy_timeouts
from retrograde.storage.sql.driver_errors import driver_errors, mask_password
from retrograde.storage.sql.locks import LOCK_ID, holder_of
from retrograde.storage.sql.schema import store_lock


def busy_error(engine: Engine, url: str) -> StoreBusyError:
    """A :class:`StoreBusyError` for the store at ``url``, naming the lock's recorded holder."""
    waited, _ = busy_timeouts()
    holder = recorded_holder(engine)
    if holder is None:
        return StoreBusyError(mask_password(url), waited=waited)
    return StoreBusyError(
        mask_password(url),
        waited=waited,
        holder=holder.doing(),
        principal=holder.principal,
        host=holder.host,
        pid=holder.pid,
        since=holder.since,
    )


def recorded_holder(engine: Engine) -> LockHolder | None:
    """The holder the store lock row names, or None (free, missing, or unreadable)."""
    try:
        with engine.connect() as conn, conn.begin():
            query = select(store_lock).where(store_lock.c.id == LOCK_ID)
            row = conn.execute(query).mappings().first()
    except driver_errors():
        return None
    return None if row is None else holder_of(row)
