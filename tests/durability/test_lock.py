"""One apply at a time: the store lock, its holder in refusals, dead holders, leases, unlock."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import retrograde
from retrograde.cli.main import cli
from retrograde.commands import locking
from retrograde.errors import LockLostError, StoreLockedError
from retrograde.model.apply import ApplyStatus
from retrograde.model.journal import LockHolder
from retrograde.storage.connect import open_store
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql.schema import store_lock
from tests import store_calls

from .processes import environment, kill, kill_group_in, run, spawn, wait_for
from .stacks import deployment, write

HOST = socket.gethostname()


def _refusal(holder: LockHolder, activity: str) -> str:
    return (
        f"the store is locked by {activity} of {holder.principal} on {holder.host} "
        f"(pid {holder.pid}) since {holder.since}; wait for it to finish, "
        "or run 'retrograde unlock --force' if that process is gone"
    )


def test_a_second_apply_is_refused_naming_the_holder(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """While a real apply runs, apply and stage are refused with its principal, host, pid, since."""
    stack = write(tmp_path, "stack.yaml", deployment(slow="keystone1"))
    process = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes")
    try:
        wait_for(tmp_path / "slow.pid", process)
        holder = store_calls.lock_holder(ctx.store)
        assert holder is not None
        assert (holder.principal, holder.host, holder.pid) == ("tester", HOST, process.pid)
        assert (holder.activity, holder.apply_id) == ("apply", 1)
        for attempt in (lambda: retrograde.apply(ctx), lambda: retrograde.stage(ctx, stack)):
            with pytest.raises(StoreLockedError) as refused:
                attempt()
            assert str(refused.value) == _refusal(holder, "apply 1")
        cli = run(store_url, tmp_path, "apply", "--yes")
        assert cli.stderr == f"error: {_refusal(holder, 'apply 1')}\n"
    finally:
        kill(process)
        kill_group_in(tmp_path / "slow.pid")


def test_the_lock_of_a_killed_apply_is_taken_over(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """Once the holder is dead its lock is taken over, and its apply is found interrupted."""
    write(tmp_path, "stack.yaml", deployment(slow="keystone1"))
    process = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes")
    wait_for(tmp_path / "slow.pid", process)
    kill(process)
    kill_group_in(tmp_path / "slow.pid")
    with locking.exclusive(ctx, "resume", allow_interrupted=True) as grant:
        assert grant.taken_over is not None
        assert (grant.taken_over.pid, grant.taken_over.apply_id) == (process.pid, 1)
        with ctx.store.write() as tx:
            found = locking.interrupted_applies(tx)
        assert [a.status for a in found] == [ApplyStatus.INTERRUPTED]
    assert retrograde.resume(ctx).report.status is ApplyStatus.SUCCEEDED


def test_a_dead_holder_without_an_apply_is_taken_over(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """A process that took the lock and died (no apply begun) does not block the next apply."""
    script = (
        "import os, signal, socket, retrograde\n"
        "from retrograde.model.journal import LockHolder\n"
        f"ctx = retrograde.open_context({store_url!r}, principal='ghost')\n"
        "holder = LockHolder('stage', 'ghost', socket.gethostname(), os.getpid(), 'then')\n"
        "with ctx.store.write() as tx:\n    tx.lock.acquire(holder, 3600)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    ghost = subprocess.Popen([sys.executable, "-c", script], env=environment())
    assert ghost.wait(timeout=60) == -9
    assert store_calls.lock_holder(ctx.store) == LockHolder(
        "stage", "ghost", HOST, ghost.pid, "then"
    )
    assert store_calls.lock_is_stale(ctx.store)
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", deployment()))
    assert report.status is ApplyStatus.SUCCEEDED
    assert store_calls.lock_holder(ctx.store) is None


def test_a_holder_elsewhere_is_refused_until_its_lease_expires(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A holder on another host (no pid to check) holds the store until its lease ends."""
    holder = LockHolder("apply", "alice", "build-7", 4242, "2026-11-25T15:35:56.123456Z", 9)
    store_calls.acquire_lock(ctx.store, holder, 0.5)
    stack = write(tmp_path, "stack.yaml", deployment())
    with pytest.raises(StoreLockedError) as refused:
        retrograde.stage(ctx, stack)
    assert str(refused.value) == (
        "the store is locked by apply 9 of alice on build-7 (pid 4242) since "
        "2026-11-25T15:35:56.123456Z; wait for it to finish, or run "
        "'retrograde unlock --force' if that process is gone"
    )
    time.sleep(0.6)
    assert store_calls.lock_is_stale(ctx.store)
    assert sorted(retrograde.stage(ctx, stack)) == ["haproxy", "keystone1", "keystone2", "node1"]


def test_a_running_apply_keeps_refreshing_its_lease(store_url: str, tmp_path: Path) -> None:
    """While a handler runs for longer than the lease, the apply keeps pushing its lease forward."""
    write(tmp_path, "stack.yaml", deployment(slow="keystone1"))
    process = spawn(
        store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_LOCK_LEASE="0.4"
    )
    try:
        wait_for(tmp_path / "slow.pid", process)
        with open_store(store_url) as store:
            first = _lease_until(store)
            time.sleep(1.0)  # longer than the lease: only refreshes keep it ahead
            assert _lease_until(store) > first
            assert not store_calls.lock_is_stale(store)
    finally:
        kill(process)
        kill_group_in(tmp_path / "slow.pid")


def _lease_until(store: object) -> float:
    engine = store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return float(conn.execute(select(store_lock.c.lease_until)).scalar_one())


def test_unlock_frees_only_dead_holders_unless_forced(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """unlock refuses a live holder (naming it), frees it with --force, and reports a free store."""
    holder = LockHolder("apply", "alice", "build-7", 4242, "2026-11-25T15:35:56.123456Z")
    store_calls.acquire_lock(ctx.store, holder, 3600)
    refused = run(store_url, tmp_path, "unlock")
    assert refused.returncode == 1
    assert refused.stderr == f"error: {_refusal(holder, 'apply')}\n"
    forced = run(store_url, tmp_path, "unlock", "--force", "--json")
    assert json.loads(forced.stdout) == {"released": holder.to_json()}
    assert store_calls.lock_holder(ctx.store) is None
    assert retrograde.unlock(ctx) is None


def test_an_apply_that_lost_its_lock_commits_nothing_more(ctx: retrograde.Context) -> None:
    """After unlock --force and a new holder, the old holder's next transaction is refused whole."""
    grant = store_calls.acquire_lock(ctx.store, locking.holder(ctx, "apply"), 3600)
    locking.unlock(ctx, force=True)
    store_calls.acquire_lock(ctx.store, locking.holder(ctx, "stage"), 3600)
    with pytest.raises(LockLostError) as lost:
        store_calls.refresh_lock(ctx.store, grant, apply_id=1)
    assert str(lost.value) == (
        "apply 1 stopped: it no longer holds the store lock (its lease expired and another "
        "process took over, or someone ran 'retrograde unlock --force')"
    )
    assert store_calls.head(ctx.store)[0] == 0


def test_entries_are_not_committed_under_a_lost_lock(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A group commit whose lock was taken writes neither commits nor state nor journal."""
    retrograde.stage(ctx, write(tmp_path, "stack.yaml", deployment()))
    staged = store_calls.load_staged(ctx.store)
    grant = store_calls.acquire_lock(ctx.store, locking.holder(ctx, "apply"), 3600)
    plan = retrograde.plan(ctx)
    record = store_calls.begin_apply(
        ctx.store, "tester", "", plan, "now", started=["node1"], grant=grant
    )
    store_calls.force_unlock(ctx.store)
    entry = CommitEntry(staged["node1"], "now")
    with pytest.raises(LockLostError):
        store_calls.record_commits(ctx.store, record.id, "tester", "", [entry], lock=grant)
    assert store_calls.head(ctx.store)[0] == 0
    assert store_calls.load_state(ctx.store) == {}
    assert "node1" in store_calls.load_staged(ctx.store)
    assert {t.resource: t.status.value for t in store_calls.load_tasks(ctx.store, record.id)}[
        "node1"
    ] == "started"


def test_unlock_says_whose_lock_it_released(ctx: retrograde.Context, store_url: str) -> None:
    """unlock --force prints the released holder; a second unlock finds the store free."""
    holder = LockHolder("apply", "alice", "build-7", 4242, "2026-11-25T15:35:56.123456Z", 3)
    store_calls.acquire_lock(ctx.store, holder, 3600)
    runner = CliRunner()
    forced = runner.invoke(cli, ["--db", store_url, "unlock", "--force"])
    assert forced.output == (
        "Released the lock held by apply 3 of alice on build-7 (pid 4242) "
        "since 2026-11-25T15:35:56.123456Z.\n"
    )
    again = runner.invoke(cli, ["--db", store_url, "unlock"])
    assert (again.exit_code, again.output) == (0, "The store is not locked.\n")
