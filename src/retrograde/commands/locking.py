"""One change at a time: the store lock around every verb that changes the store, and unlock.

Verbs that change the staged log or committed state (``stage``, ``apply``,
``discard``, ``resume``, and ``revert``/``rollback``) run inside
:func:`exclusive`: it takes the store lock (refused with the holder's
principal, host, pid and start time while another live process has it; taken
over when the holder is dead), and refuses to go on while an interrupted apply
waits for ``resume`` or ``discard``. Holding the lock means no apply is
running, so any apply still marked ``running`` was interrupted: it is marked
so on the way.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

from retrograde import config
from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.errors import (
    InterruptedApplyError,
    ReadOnlyStoreError,
    StoreBusyError,
    StoreError,
    StoreLockedError,
)
from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.journal import LockGrant, LockHolder
from retrograde.storage.base import Transaction
from retrograde.storage.sql.locks import pid_alive


@contextlib.contextmanager
def exclusive(
    ctx: Context, activity: str, *, allow_interrupted: bool = False
) -> Iterator[LockGrant]:
    """Hold the store lock for the block, as ``activity`` (``stage``, ``apply`` ...).

    Raises :class:`StoreLockedError` naming a live holder, and (unless
    ``allow_interrupted``) :class:`InterruptedApplyError` pointing at
    ``resume`` and ``discard``. The lock is released when the block ends.
    """
    with ctx.store.write() as tx:
        grant = tx.lock.acquire(holder(ctx, activity), config.lock_lease_seconds())
        found = interrupted_applies(tx)
    try:
        if not allow_interrupted:
            refuse_interrupted(found)
        yield grant
    finally:
        with contextlib.suppress(StoreError), ctx.store.write() as tx:
            tx.lock.release(grant)


def holder(ctx: Context, activity: str) -> LockHolder:
    """This process, acting for ``ctx.principal``, as a lock holder."""
    return LockHolder(activity, ctx.principal, socket.gethostname(), os.getpid(), utc_now())


def interrupted_applies(tx: Transaction) -> list[ApplyRecord]:
    """With the lock held: every unfinished apply, now marked ``interrupted``, oldest first."""
    found = []
    for record in tx.applies.unfinished():
        if record.status is ApplyStatus.RUNNING:
            record = tx.applies.set_status(record.id, ApplyStatus.INTERRUPTED)
        found.append(record)
    return found


def settle_interrupted(ctx: Context) -> None:
    """Mark applies whose process died ``interrupted``, unless a live process holds the store.

    Read verbs call this so that they never show a dead apply as ``running``:
    if the lock can be had, no apply is running. It looks first, in a read
    transaction (which never waits), and takes the lock only when an apply
    is marked ``running`` and the lock's holder is not a live process on this
    host, so a reader does not queue behind a writer's open transaction.
    A live holder, a read-only store and a busy database are left alone: the
    apply is then shown as last recorded.
    """
    with ctx.store.read() as tx:
        running = any(r.status is ApplyStatus.RUNNING for r in tx.applies.unfinished())
        current = tx.lock.holder() if running else None
    if not running or (current is not None and _alive_here(current)):
        return
    left_alone = (StoreLockedError, ReadOnlyStoreError, StoreBusyError)
    with contextlib.suppress(*left_alone), exclusive(ctx, "inspect", allow_interrupted=True):
        pass


def _alive_here(current: LockHolder) -> bool:
    return current.host == socket.gethostname() and pid_alive(current.pid)


def refuse_interrupted(records: list[ApplyRecord]) -> None:
    if records:
        first = records[0]
        raise InterruptedApplyError(
            first.id, principal=first.principal, started_at=first.started_at
        )


def unlock(ctx: Context, *, force: bool = False) -> LockHolder | None:
    """Free the store lock; returns the holder it had (None when it was free).

    Without ``force`` only a dead holder's lock is freed (a live one is a
    :class:`StoreLockedError` naming it); with ``force`` any holder's. A
    forced-out apply stops at its next commit and is left to ``resume``.
    """
    with ctx.store.write() as tx:
        if force:
            return tx.lock.force_free()
        if tx.lock.holder() is None:
            return None
        grant = tx.lock.acquire(holder(ctx, "unlock"), config.lock_lease_seconds())
        tx.lock.release(grant)
    return grant.taken_over
