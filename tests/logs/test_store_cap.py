"""The store-wide cap on handler output: the oldest goes first, in one bounded delete."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from retrograde.config import LOG_CAP_ENV
from retrograde.model.apply import HandlerOutput
from retrograde.storage.sql.schema import action_output, output_totals
from retrograde.storage.sql.store import SqlStore
from tests.logs.conftest import Invoke
from tests.logs.stacks import chain
from tests.stacks import write


def noise(seed: int, size: int = 2000) -> str:
    """Text that does not compress much, different for every seed."""
    return os.urandom(size // 2).hex() + f" #{seed}"


def outputs(apply_id: int, count: int) -> list[HandlerOutput]:
    return [
        HandlerOutput(apply_id, f"r{i}", 1, True, rev=apply_id * 100 + i, stdout=noise(i))
        for i in range(count)
    ]


def stored_bytes(store: SqlStore) -> tuple[int, int]:
    """The running total the store keeps, and the sum of its rows' sizes."""
    with store.engine.connect() as conn:
        total = conn.execute(select(output_totals.c.bytes)).scalar_one()
        summed = conn.execute(select(func.coalesce(func.sum(action_output.c.size), 0))).scalar_one()
    return int(total), int(summed)


@pytest.fixture
def deletes(store: SqlStore) -> Iterator[list[str]]:
    """The DELETE statements the store runs while the test does."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


def test_cap_drops_the_oldest_output_in_one_delete(
    store: SqlStore, deletes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap, the oldest rows go (one DELETE for many rows); the total stays true."""
    monkeypatch.setenv(LOG_CAP_ENV, "40000")
    with store.write() as tx:
        tx.output.add(outputs(1, 30))  # about 30 KB of compressed noise: under the cap
    assert deletes == []
    with store.write() as tx:
        tx.output.add(outputs(2, 30))
    assert len(deletes) == 1
    total, summed = stored_bytes(store)
    assert total == summed <= 40000
    with store.read() as tx:
        kept_first = tx.output.of_apply(1)
        kept_second = tx.output.of_apply(2)
        dropped = tx.output.dropped()
        assert tx.output.of_rev(100) is None
        newest = tx.output.of_rev(229)
    assert len(kept_second) == 30
    assert [o.resource for o in kept_first] == [f"r{i}" for i in range(30 - len(kept_first), 30)]
    assert dropped.apply_id == 1 and dropped.rev == 100 + 29 - len(kept_first)
    assert newest is not None and newest.stdout.endswith("#29")


def test_empty_output_costs_no_bytes(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """An action that wrote nothing is listed, but holds no bytes against the cap."""
    monkeypatch.setenv(LOG_CAP_ENV, "0")
    with store.write() as tx:
        tx.output.add([HandlerOutput(1, "quiet", 1, True, rev=1)])
    assert stored_bytes(store) == (0, 0)
    with store.read() as tx:
        assert tx.output.of_rev(1) == HandlerOutput(1, "quiet", 1, True, rev=1)


def test_logs_says_when_the_cap_dropped_output(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After later applies pushed it out, an action's output shows as dropped, not as empty."""
    monkeypatch.setenv(LOG_CAP_ENV, "6000")
    run = "head -c 1500 /dev/urandom | od -An -tx1"
    stack = write(tmp_path, "stack.yaml", chain(run))
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    moved = write(tmp_path, "moved.yaml", chain(run).replace("n: 1", "n: 2"))
    assert invoke("apply", str(moved), "--yes").exit_code == 0
    first = json.loads(invoke("logs", "--apply", "1", "--json").stdout)["logs"]
    assert [(e["resource"], e["dropped"], e["stdout"]) for e in first] == [
        ("a", True, ""),
        ("b", True, ""),
        ("c", True, ""),
    ]
    assert "(dropped: the store keeps at most RETROGRADE_LOG_CAP" in invoke("logs", "1").stdout
    (newest,) = json.loads(invoke("logs", "6", "--json").stdout)["logs"]
    assert newest["dropped"] is False and len(newest["stdout"]) > 4000
