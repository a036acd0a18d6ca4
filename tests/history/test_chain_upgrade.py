"""Older stores and exports join the chain once: schema revision 0007, version 1 exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from alembic import command
from sqlalchemy import select, update

import retrograde
from retrograde.commands import history, transfer
from retrograde.history.files import read_lines
from retrograde.model.chain import EntryKind
from retrograde.model.query import LogQuery
from retrograde.model.reports import ProblemKind
from retrograde.storage.connect import open_store
from retrograde.storage.sql.database import create_store_engine, normalise_url, writer
from retrograde.storage.sql.schema import applies, types
from retrograde.storage.sql.store import SqlStore
from retrograde.storage.sql.upgrade import alembic_config
from tests import store_calls

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = DATA / "demo-export.jsonl.zst"


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in read_lines(path) if line.strip()]


def test_a_0005_store_is_chained_once_after_an_upgrade_entry_with_its_old_head(
    store_url: str, tmp_path: Path
) -> None:
    """Revision 0007 keeps every commit hash, records the old head in an ``upgrade`` entry,
    chains every type, checkpoint and apply after it, and the result verifies."""
    shutil.copy(GOLDEN, tmp_path / GOLDEN.name)
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as ctx:
        transfer.import_(ctx, Path(GOLDEN.name))
        before = {c.rev: c.hash for c in store_calls.log(ctx.store, LogQuery(limit=1000))}
        head = store_calls.head(ctx.store)
    engine = create_store_engine(normalise_url(store_url), store_url)
    with writer(engine).begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    engine.dispose()
    with open_store(store_url) as store:
        entries = store_calls.chain_entries(store)
        assert {c.rev: c.hash for c in store_calls.log(store, LogQuery(limit=1000))} == before
    upgrade = entries[0]
    assert (upgrade.kind, upgrade.seq, upgrade.after_rev) == (EntryKind.UPGRADE, 1, head[0])
    assert (upgrade.data["rev"], upgrade.data["hash"]) == head
    chained = {e.kind for e in entries[1:]}
    assert chained == {
        EntryKind.TYPE,
        EntryKind.CHECKPOINT,
        EntryKind.APPLY_BEGIN,
        EntryKind.APPLY_END,
    }
    begins = [e for e in entries if e.kind == EntryKind.APPLY_BEGIN]
    assert {e.data["principal_source"] for e in begins} == {"unknown"}
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as ctx:
        verified = history.verify(ctx)
        assert verified.ok, verified.problems
        assert isinstance(ctx.store, SqlStore)
        with ctx.store.engine.begin() as conn:
            conn.execute(update(applies).where(applies.c.id == 2).values(message="nothing"))
        problems = history.verify(ctx).problems
        assert problems[0].kind is ProblemKind.RECORD and "(apply-begin 2)" in problems[0].detail


def test_the_golden_export_keeps_its_hashes_and_its_records_are_chained(
    ctx: retrograde.Context,
) -> None:
    """A version 1 export imports every commit; sealing its clear secrets rehashes them
    (the chain upgrade keeps the file's head), and its records are chained after an
    ``upgrade`` entry naming the sealed head, so editing a type afterwards is caught."""
    shutil.copy(GOLDEN, ctx.cwd / GOLDEN.name)
    report = transfer.import_(ctx, Path(GOLDEN.name))
    file_hashes = {r["rev"]: r["hash"] for r in _records(GOLDEN) if r["kind"] == "commit"}
    stored = {c.rev: c.hash for c in store_calls.log(ctx.store, LogQuery(limit=1000))}
    assert set(stored) == set(file_hashes)
    last = max(file_hashes)
    assert report.extra["chain_upgrade"]["old_hash"] == file_hashes[last]
    assert report.last_hash == stored[last]
    entries = store_calls.chain_entries(ctx.store)
    assert entries[0].kind == EntryKind.UPGRADE
    assert (entries[0].data["rev"], entries[0].data["hash"]) == (
        report.last_rev,
        report.last_hash,
    )
    assert history.verify(ctx).ok
    assert isinstance(ctx.store, SqlStore)
    with ctx.store.engine.begin() as conn:
        name = conn.execute(select(types.c.name)).scalars().first()
        conn.execute(update(types).where(types.c.name == name).values(definition="{}"))
    problems = history.verify(ctx).problems
    assert problems[0].kind is ProblemKind.RECORD and f"(type {name} v" in problems[0].detail


def test_append_onto_a_version_1_file_adds_a_version_2_segment_that_imports(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """``export --append`` onto an old file writes a new-format segment after it; the whole
    file imports into another store with the same chain head."""
    shutil.copy(GOLDEN, ctx.cwd / "old.jsonl.zst")
    transfer.import_(ctx, Path("old.jsonl.zst"))
    retrograde.checkpoint(ctx, "after-upgrade", message="a mark")
    transfer.export(ctx, Path("old.jsonl.zst"), append=True)
    segments = [r for r in _records(tmp_path / "old.jsonl.zst") if r["kind"] == "segment"]
    assert [s["version"] for s in segments] == [1, 2]
    mine = history.verify(ctx).to_json()["chain"]
    second = f"sqlite:///{tmp_path / 'second.db'}"
    with retrograde.open_context(second, cwd=tmp_path, principal="tester") as copy:
        transfer.import_(copy, Path("old.jsonl.zst"))
        theirs = history.verify(copy).to_json()
        assert theirs["ok"], theirs["problems"]
        assert theirs["chain"] == mine
