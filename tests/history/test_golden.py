"""An export made by an earlier retrograde imports, verifies and keeps every hash.

``tests/data/demo-export.jsonl.zst`` was written by ``retrograde export`` at
commit 2b612c2 (before the store was split into repositories) after
``examples/demo.sh``: 17 commits with secret inputs, a removal, a revert and
a checkpoint. ``tests/data/demo-state.json`` holds that store's head and its
committed state (secrets in clear), read from its tables. Stored bytes and
hashes must never change, so this file must import on every back end with
the same hash for every commit and the same state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import retrograde
from retrograde.commands import history, transfer
from retrograde.history.files import read_lines
from retrograde.model.query import LogQuery
from tests import store_calls

DATA = Path(__file__).resolve().parent.parent / "data"
EXPORT = DATA / "demo-export.jsonl.zst"
EXPECTED = json.loads((DATA / "demo-state.json").read_text())


def _file_commits() -> dict[int, str]:
    found = {}
    for line in read_lines(EXPORT):
        data = json.loads(line)
        if data["kind"] == "commit":
            found[data["rev"]] = data["hash"]
    return found


def test_the_old_export_imports_with_identical_hashes_and_state(ctx: retrograde.Context) -> None:
    """Head, every commit's hash and committed state are the ones the old store had."""
    shutil.copy(EXPORT, ctx.cwd / EXPORT.name)
    report = transfer.import_(ctx, Path(EXPORT.name))
    head = (EXPECTED["head"]["rev"], EXPECTED["head"]["hash"])
    assert (report.last_rev, report.last_hash) == head
    assert store_calls.head(ctx.store) == head
    commits = retrograde.log(ctx, LogQuery(limit=1_000))
    assert {c.rev: c.hash for c in commits} == _file_commits()
    assert {c.action.value for c in commits} >= {"run", "update", "remove"}
    assert any(c.reverts for c in commits)
    state = {n: s.to_json() for n, s in store_calls.load_state(ctx.store).items()}
    assert state == EXPECTED["state"]
    assert [c.name for c in retrograde.checkpoints(ctx)] == ["renumbered"]
    verified = history.verify(ctx)
    assert verified.ok and (verified.head_rev, verified.head_hash) == head


def test_the_old_export_comes_out_again_with_the_same_records(ctx: retrograde.Context) -> None:
    """Export of the imported store holds the same commit lines (key order aside)."""
    shutil.copy(EXPORT, ctx.cwd / EXPORT.name)
    transfer.import_(ctx, Path(EXPORT.name))
    transfer.export(ctx, Path("again.jsonl"))

    def commit_records(path: Path) -> list[dict[str, object]]:
        return [
            json.loads(line) for line in read_lines(path) if json.loads(line)["kind"] == "commit"
        ]

    assert commit_records(ctx.cwd / "again.jsonl") == commit_records(EXPORT)
