"""A lock holder frozen inside a write transaction: readers do not wait, writers name it.

The holder is a real process that takes the store lock, opens a write
transaction that refreshes it (SQLite: ``BEGIN IMMEDIATE``, the write lock;
PostgreSQL: the ``store_lock`` row locked by its UPDATE) and stops itself with
SIGSTOP, as an apply frozen in the middle of a commit would.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import environment, run, run_json, wait_for
from .stacks import deployment, write

HOLDER = textwrap.dedent(
    """
    import os, signal, socket, sys
    from pathlib import Path
    from retrograde.clock import utc_now
    from retrograde.model.journal import LockHolder
    from retrograde.storage.connect import open_store

    store = open_store(sys.argv[1])
    me = LockHolder("apply", "frozen-op", socket.gethostname(), os.getpid(), utc_now())
    with store.write() as tx:
        grant = tx.lock.acquire(me, 600)
    with store.write() as tx:
        tx.lock.refresh(grant)
        Path(sys.argv[2]).write_text(me.since)
        os.kill(os.getpid(), signal.SIGSTOP)
    """
)
READ_VERBS = (("log",), ("applies",), ("verify",), ("state",), ("blame", "node1"))


@pytest.fixture
def frozen(store_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A store with one apply, and a stopped process holding a write transaction on it."""
    write(tmp_path, "stack.yaml", deployment())
    assert run(store_url, tmp_path, "apply", "stack.yaml", "--yes").returncode == 0
    marker = tmp_path / "holding"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, store_url, str(marker)],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(marker, process)
        yield process, marker.read_text()
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)


def test_read_verbs_do_not_wait_for_a_frozen_transaction(
    frozen: tuple[subprocess.Popen[str], str], store_url: str, tmp_path: Path
) -> None:
    """log, applies, verify, state and blame answer at once (they waited 30 s for applies)."""
    for verb in READ_VERBS:
        started = time.monotonic()
        done = run(store_url, tmp_path, *verb)
        assert (done.returncode, done.stderr) == (0, ""), verb
        assert time.monotonic() - started < 10, verb
    assert len(run_json(store_url, tmp_path, "log")["commits"]) == 4


def test_a_writer_gives_up_naming_the_frozen_holder(
    frozen: tuple[subprocess.Popen[str], str], store_url: str, tmp_path: Path
) -> None:
    """stage waits RETROGRADE_BUSY_TIMEOUT, then one line names the holder; nothing is staged."""
    process, since = frozen
    write(tmp_path, "v2.yaml", deployment(extra="  node2: {type: node, inputs: {ip: x}}\n"))
    started = time.monotonic()
    done = run(store_url, tmp_path, "stage", "v2.yaml", RETROGRADE_BUSY_TIMEOUT="1")
    assert time.monotonic() - started < 15
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "held by another process's open transaction" in done.stderr
    holder = f"apply of frozen-op on {socket.gethostname()} (pid {process.pid}) since {since}"
    assert holder in done.stderr
    assert "gave up after 1 s" in done.stderr
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert run_json(store_url, tmp_path, "diff")["changes"] == {}
