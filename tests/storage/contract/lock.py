"""The contract of ``tx.lock``: one holder at a time, dead ones taken over, lost grants fenced."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess

import pytest

from retrograde.errors import LockLostError, StoreLockedError
from retrograde.model.journal import LockHolder
from retrograde.storage.base import Store
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures

HERE = socket.gethostname()


def holder(activity: str = "apply", *, pid: int | None = None, host: str = HERE) -> LockHolder:
    """A holder acting from ``host`` as process ``pid`` (this test process by default)."""
    pid = os.getpid() if pid is None else pid
    return LockHolder(activity, "alice", host, pid, since="2026-01-01T00:00:00Z")


def reaped_pid() -> int:
    """The pid of a process that has exited and been reaped (so dead on this host)."""
    process = subprocess.Popen(["/bin/sh", "-c", "exit 0"])
    process.wait()
    return process.pid


def same_holder(found: LockHolder | None, expected: LockHolder) -> bool:
    """Whether ``found`` is ``expected`` (``since`` is the store's to set)."""
    return found is not None and dataclasses.replace(found, since="") == dataclasses.replace(
        expected, since=""
    )


class LockContract(StoreFixtures):
    """The store lock."""

    def test_a_new_store_is_unlocked_and_a_read_can_say_so(self, store: Store) -> None:
        """holder() answers in a read transaction on a fresh store: nobody."""
        with store.read() as tx:
            assert tx.lock.holder() is None

    def test_a_live_holder_is_refused_by_name(self, store: Store) -> None:
        """While this process holds the lock, another acquire is StoreLockedError naming it."""
        first = holder("apply")
        grant = store_calls.acquire_lock(store, first, 3600)
        assert grant.taken_over is None
        assert same_holder(store_calls.lock_holder(store), first)
        with pytest.raises(StoreLockedError) as refused:
            store_calls.acquire_lock(store, holder("stage"), 3600)
        assert (refused.value.principal, refused.value.host, refused.value.pid) == (
            "alice",
            HERE,
            os.getpid(),
        )
        assert same_holder(store_calls.lock_holder(store), first)

    def test_a_dead_holder_is_taken_over(self, store: Store) -> None:
        """A holder whose pid is gone on this host loses the lock to the next acquire."""
        gone = holder("apply", pid=reaped_pid())
        store_calls.acquire_lock(store, gone, 3600)
        grant = store_calls.acquire_lock(store, holder("stage"), 3600)
        assert same_holder(grant.taken_over, gone)
        assert same_holder(store_calls.lock_holder(store), holder("stage"))

    def test_a_holder_elsewhere_keeps_the_lock_until_its_lease_expires(self, store: Store) -> None:
        """Another host's holder is live within its lease, and taken over once it expired."""
        store_calls.acquire_lock(store, holder(host="elsewhere", pid=1), 3600)
        with pytest.raises(StoreLockedError):
            store_calls.acquire_lock(store, holder("stage"), 3600)
        store_calls.force_unlock(store)
        expired = holder(host="elsewhere", pid=1)
        store_calls.acquire_lock(store, expired, -1)
        assert same_holder(store_calls.acquire_lock(store, holder(), 60).taken_over, expired)

    def test_refresh_records_the_apply_and_fails_once_the_lock_is_lost(self, store: Store) -> None:
        """refresh names the apply on the holder; after a forced unlock it is LockLostError."""
        grant = store_calls.acquire_lock(store, holder(), 3600)
        store_calls.refresh_lock(store, grant, apply_id=4)
        found = store_calls.lock_holder(store)
        assert found is not None and found.apply_id == 4
        assert same_holder(
            store_calls.force_unlock(store), dataclasses.replace(holder(), apply_id=4)
        )
        with pytest.raises(LockLostError):
            store_calls.refresh_lock(store, grant)
        assert store_calls.lock_holder(store) is None

    def test_release_frees_only_the_lock_its_grant_holds(self, store: Store) -> None:
        """An old grant's release leaves the new holder alone; the holder's own release frees."""
        old = store_calls.acquire_lock(store, holder("apply"), 3600)
        store_calls.force_unlock(store)
        new = store_calls.acquire_lock(store, holder("stage"), 3600)
        store_calls.release_lock(store, old)
        assert same_holder(store_calls.lock_holder(store), holder("stage"))
        store_calls.release_lock(store, new)
        assert store_calls.lock_holder(store) is None
        assert store_calls.force_unlock(store) is None
