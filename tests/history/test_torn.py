"""Exports torn by a crash: the next append and import keep every complete segment.

A process killed while it appends leaves a file that ends inside its last
segment (inside a zstd frame, or a plain segment short of the commits its
first line promised). The next ``export --append`` cuts the torn part off and
writes on from the last complete segment; ``import`` loads the complete
segments and says what it left out. Cuts are made at every byte of the last
segment of a real file, and once by SIGKILL of a real ``retrograde export
--append`` process. An import killed the same way leaves its store empty.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import transfer
from retrograde.errors import CorruptLogError
from retrograde.history import files
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import make_change
from retrograde.model.plan import Plan
from retrograde.storage.repositories import CommitEntry
from tests import store_calls
from tests.commands.stacks import V1, V2, write
from tests.history.bulk import BATCH, _stamp, bulk_history, node

NAMES = ["log.jsonl", "log.jsonl.zst"]


def two_segments(ctx: retrograde.Context, tmp_path: Path, name: str) -> tuple[int, int]:
    """A file of two segments (V1's commits, then V2's); ``(size after the first, first rev)``."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), message="first")
    first = transfer.export(ctx, Path(name))
    size = (tmp_path / name).stat().st_size
    retrograde.apply(ctx, write(tmp_path, "v2.yaml", V2), message="second")
    transfer.export(ctx, Path(name), append=True)
    assert first.last_rev is not None
    return size, first.last_rev


@pytest.mark.parametrize("name", NAMES)
def test_every_cut_inside_the_last_segment_is_found_as_a_torn_tail(
    ctx: retrograde.Context, tmp_path: Path, name: str
) -> None:
    """Cut at each byte of the last segment, the file ends at its first segment's last rev."""
    first_end, first_rev = two_segments(ctx, tmp_path, name)
    whole = (tmp_path / name).read_bytes()
    cut = tmp_path / ("cut" + name[3:])
    for length in range(first_end, len(whole)):
        cut.write_bytes(whole[:length])
        tail = files.read_tail(cut, compressed=name.endswith(".zst"))
        assert (tail.rev, tail.end, tail.size) == (first_rev, first_end, length), length
    tail = files.read_tail(tmp_path / name, compressed=name.endswith(".zst"))
    assert (tail.rev, tail.torn) == (store_calls.head(ctx.store)[0], 0)


@pytest.mark.parametrize("name", NAMES)
def test_append_after_a_cut_repairs_the_file_and_import_keeps_the_complete_segments(
    ctx: retrograde.Context, tmp_path: Path, second_url: str, name: str
) -> None:
    """At cuts across the last segment: import loads the first segment and says so; append
    cuts the torn part off, writes on, and the file imports the whole history again."""
    first_end, first_rev = two_segments(ctx, tmp_path, name)
    whole = (tmp_path / name).read_bytes()
    head = store_calls.head(ctx.store)
    step = max(1, (len(whole) - first_end) // 8)
    for number, length in enumerate([*range(first_end + 1, len(whole), step), len(whole) - 1]):
        cut = Path(f"cut{number}{name[3:]}")
        (tmp_path / cut).write_bytes(whole[:length])
        with retrograde.open_context(_sqlite(tmp_path, f"torn{number}"), cwd=tmp_path) as copy:
            report = transfer.import_(copy, cut)
            assert (report.last_rev, store_calls.head(copy.store)[0]) == (first_rev, first_rev)
            assert report.extra["torn_bytes"] == length - first_end
            assert "interrupted export" in report.extra["warning"]
        appended = transfer.export(ctx, cut, append=True)
        assert appended.first_rev == first_rev + 1
        assert appended.extra["torn_bytes"] == length - first_end
        assert (tmp_path / cut).read_bytes()[:first_end] == whole[:first_end]
        with retrograde.open_context(_sqlite(tmp_path, f"whole{number}"), cwd=tmp_path) as copy:
            assert transfer.import_(copy, cut).extra.get("torn_bytes") is None
            assert store_calls.head(copy.store) == head
    with retrograde.open_context(second_url, cwd=tmp_path) as copy:
        transfer.import_(copy, Path(f"cut{number}{name[3:]}"))
        assert store_calls.head(copy.store) == head
        assert retrograde.verify(copy).ok


@pytest.mark.parametrize("name", NAMES)
def test_a_file_with_no_complete_segment_is_refused_not_overwritten(
    ctx: retrograde.Context, tmp_path: Path, name: str
) -> None:
    """Nothing complete means nothing to continue: both verbs refuse, the bytes stay."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    transfer.export(ctx, Path(name))
    cut = (tmp_path / name).read_bytes()[:-5]
    (tmp_path / name).write_bytes(cut)
    with pytest.raises(CorruptLogError, match="interrupted"):
        transfer.export(ctx, Path(name), append=True)
    with retrograde.open_context(_sqlite(tmp_path, "none"), cwd=tmp_path) as copy:
        with pytest.raises(CorruptLogError, match="no complete segment"):
            transfer.import_(copy, Path(name))
        assert store_calls.head(copy.store)[0] == 0
    assert (tmp_path / name).read_bytes() == cut


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_sigkill_during_append_loses_no_exported_commit(
    store_url: str, tmp_path: Path, name: str
) -> None:
    """A real ``retrograde export --append`` killed mid-write: the next append repairs it."""
    with retrograde.open_context(store_url, cwd=tmp_path) as ctx:
        bulk_history(ctx.store, 2_000)
        transfer.export(ctx, Path(name))
        first_end = (tmp_path / name).stat().st_size
        bulk_history_more(ctx, 40_000)
        head = store_calls.head(ctx.store)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "retrograde.cli.main",
            "--db",
            store_url,
            "export",
            "-o",
            name,
            "--append",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while (tmp_path / name).stat().st_size <= first_end + 4096 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    tail = files.read_tail(tmp_path / name, compressed=name.endswith(".zst"))
    assert (tail.end, tail.torn > 0) == (first_end, True)
    with retrograde.open_context(store_url, cwd=tmp_path) as ctx:
        report = transfer.export(ctx, Path(name), append=True)
        assert report.extra["torn_bytes"] == tail.torn
    with retrograde.open_context(_sqlite(tmp_path, "after-kill"), cwd=tmp_path) as copy:
        transfer.import_(copy, Path(name))
        assert store_calls.head(copy.store) == head


@pytest.mark.slow
def test_sigkill_during_import_leaves_an_empty_store_with_its_indexes(tmp_path: Path) -> None:
    """A real ``retrograde import-log`` killed while it loads commits into an empty SQLite
    store (whose log indexes it dropped for the load): the store is as it was, indexes
    included, and the same import then succeeds."""
    with retrograde.open_context(_sqlite(tmp_path, "source"), cwd=tmp_path) as ctx:
        bulk_history(ctx.store, 30_000)
        transfer.export(ctx, Path("log.jsonl"))
        head = store_calls.head(ctx.store)
    target = _sqlite(tmp_path, "target")
    with retrograde.open_context(target, cwd=tmp_path) as ctx:
        indexes = store_calls.commit_indexes(ctx.store)
    assert len(indexes) == 4
    wal = tmp_path / "target" / "state.db-wal"
    process = subprocess.Popen(
        [sys.executable, "-m", "retrograde.cli.main", "--db", target, "import-log", "log.jsonl"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (wal.exists() and wal.stat().st_size > 2_000_000) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    with retrograde.open_context(target, cwd=tmp_path) as ctx:
        assert store_calls.head(ctx.store)[0] == 0
        assert store_calls.commit_indexes(ctx.store) == indexes
        transfer.import_(ctx, Path("log.jsonl"))
        assert store_calls.head(ctx.store) == head
        assert store_calls.commit_indexes(ctx.store) == indexes


def bulk_history_more(ctx: retrograde.Context, total: int) -> None:
    """``total`` more commits on top of :func:`bulk_history`'s: updates of its nodes."""
    state = store_calls.load_state(ctx.store)
    names = sorted(state)
    done = store_calls.head(ctx.store)[0]
    for start in range(done, done + total, BATCH):
        record = store_calls.begin_apply(ctx.store, "bulk", "more", Plan(()), _stamp(start))
        entries = []
        for number in range(start, min(start + BATCH, done + total)):
            name = names[number % len(names)]
            change = make_change(name, state[name], node(number))
            assert change is not None
            entries.append(CommitEntry(change, _stamp(number)))
            state[name] = node(number)
        store_calls.record_commits(ctx.store, record.id, "bulk", "more", entries)
        store_calls.finish_apply(
            ctx.store, record.id, ApplyStatus.SUCCEEDED, ended_at=entries[-1].timestamp
        )


def _sqlite(tmp_path: Path, label: str) -> str:
    return f"sqlite:///{tmp_path / label / 'state.db'}"
