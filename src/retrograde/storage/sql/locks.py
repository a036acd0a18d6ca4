"""The store lock: one row naming who holds the store, with a lease on the database clock.

One apply at a time (and no staging under a running apply) on every back end:
the lock is the single ``store_lock`` row, read and written inside write
transactions (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT ... FOR
UPDATE``), so two processes, on one machine or many, never both take it.

A holder proves ownership with a random token. It keeps the lock alive by
refreshing its lease (the runner does so in every commit transaction and on a
timer while handlers run). A holder is *stale*, and its lock may be taken
over, when its lease has expired, or when it ran on this host and its pid is
gone. Lease times are read from the database's own clock, so machines with
skewed clocks still agree on expiry.

"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    RowMapping,
    Update,
    bindparam,
    cast,
    func,
    literal,
    select,
)

from retrograde.errors import LockLostError, StoreLockedError
from retrograde.model.journal import LockGrant, LockHolder
from retrograde.storage.sql.schema import store_lock

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

LOCK_ID = 1
"""The key of the one lock row (inserted by schema revision 0004)."""

_UNIX_EPOCH_JULIAN_DAY = 2440587.5
_FREE = {
    "token": None,
    "activity": None,
    "apply_id": None,
    "principal": None,
    "host": None,
    "pid": None,
    "since": None,
    "lease_until": None,
}


class SqlLock:
    """:class:`retrograde.storage.apply_repositories.LockRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def acquire(self, holder: LockHolder, lease_seconds: float) -> LockGrant:
        return acquire(self._c.writing(), holder, lease_seconds, socket.gethostname())

    def refresh(self, grant: LockGrant, *, apply_id: int | None = None) -> None:
        refresh(self._c.writing(), grant, apply_id)

    def release(self, grant: LockGrant) -> None:
        release(self._c.writing(), grant)

    def holder(self) -> LockHolder | None:
        return holder_of(lock_row(self._c.conn))

    def force_free(self) -> LockHolder | None:
        return force_free(self._c.writing())


def database_now(dialect: str) -> ColumnElement[float]:
    """Seconds since the Unix epoch on the database server's clock, as a SQL expression."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Double)
    days = func.julianday(literal("now")) - _UNIX_EPOCH_JULIAN_DAY
    return cast(days * 86400.0, Double)


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this host (one owned by another user counts).

    A zombie (killed, not yet reaped by its parent) is dead: it holds nothing.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``/proc`` says ``pid`` is a zombie (False where there is no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return False
    return bool(fields) and fields[0] == "Z"


def is_stale(row: RowMapping, now: float, here: str) -> bool:
    """A held lock whose holder is gone: lease expired, or a dead pid on this host ``here``."""
    if row["lease_until"] is not None and float(row["lease_until"]) < now:
        return True
    return bool(row["host"] == here and not pid_alive(int(row["pid"])))


def holder_of(row: RowMapping) -> LockHolder | None:
    """The holder recorded in the lock row, or None when the lock is free."""
    if row["token"] is None:
        return None
    return LockHolder(
        activity=row["activity"],
        principal=row["principal"],
        host=row["host"],
        pid=int(row["pid"]),
        since=row["since"],
        apply_id=row["apply_id"],
    )


def lock_row(conn: Connection, *, for_update: bool = False) -> RowMapping:
    """The lock row with the database's current time as ``now``; created if missing."""
    now = database_now(conn.dialect.name).label("now")
    query = select(store_lock, now).where(store_lock.c.id == LOCK_ID)
    if for_update:
        query = query.with_for_update(of=store_lock)
    row = conn.execute(query).mappings().first()
    if row is None:
        conn.execute(store_lock.insert().values(id=LOCK_ID))
        row = conn.execute(query).mappings().one()
    return row


def acquire(conn: Connection, holder: LockHolder, lease_seconds: float, here: str) -> LockGrant:
    """Take the lock for ``holder``; raise :class:`StoreLockedError` if a live holder has it."""
    row = lock_row(conn, for_update=True)
    previous = holder_of(row)
    if previous is not None and not is_stale(row, float(row["now"]), here):
        raise StoreLockedError(
            previous.doing(),
            principal=previous.principal,
            host=previous.host,
            pid=previous.pid,
            since=previous.since,
        )
    token = uuid.uuid4().hex
    values = {
        "token": token,
        "activity": holder.activity,
        "apply_id": holder.apply_id,
        "principal": holder.principal,
        "host": holder.host,
        "pid": holder.pid,
        "since": holder.since,
        "lease_until": float(row["now"]) + lease_seconds,
    }
    conn.execute(store_lock.update().where(store_lock.c.id == LOCK_ID).values(values))
    return LockGrant(token=token, lease_seconds=lease_seconds, taken_over=previous)


def refresh(conn: Connection, grant: LockGrant, apply_id: int | None = None) -> None:
    """Extend the lease of ``grant``; :class:`LockLostError` when another holder has the lock.

    One single-row UPDATE by primary key, cheap enough for every commit
    transaction: it is also the fence that stops an apply whose lock was taken.
    """
    params: dict[str, object] = {"k_token": grant.token, "v_lease": grant.lease_seconds}
    if apply_id is not None:
        params["v_apply_id"] = apply_id
    statement = _refreshing(conn.dialect.name, apply_id is not None)
    if conn.execute(statement, params).rowcount != 1:
        raise LockLostError(apply_id)


@functools.cache
def _refreshing(dialect: str, with_apply: bool) -> Update:
    """The UPDATE of :func:`refresh` (built once: every commit turn runs it)."""
    values: dict[str, object] = {"lease_until": database_now(dialect) + bindparam("v_lease")}
    if with_apply:
        values["apply_id"] = bindparam("v_apply_id")
    return (
        store_lock.update()
        .where(store_lock.c.id == LOCK_ID, store_lock.c.token == bindparam("k_token"))
        .values(values)
    )


def release(conn: Connection, grant: LockGrant) -> None:
    """Free the lock if ``grant`` still holds it."""
    statement = store_lock.update().where(
        store_lock.c.id == LOCK_ID, store_lock.c.token == grant.token
    )
    conn.execute(statement.values(_FREE))


def force_free(conn: Connection) -> LockHolder | None:
    """Free the lock whoever holds it; return who held it."""
    previous = holder_of(lock_row(conn, for_update=True))
    conn.execute(store_lock.update().where(store_lock.c.id == LOCK_ID).values(_FREE))
    return previous
