"""An export made by an earlier retrograde imports, verifies and keeps every hash.

``tests/data/demo-export.jsonl.zst`` was written by ``retrograde export`` at
commit 2b612c2 (before the store was split into repositories) after
``examples/demo.sh``: 17 commits with secret inputs, a removal, a revert and
a checkpoint. ``tests/data/demo-state.json`` holds that store's head and its
committed state (secrets in clear), read from its tables. Stored bytes and
hashes must never change, so this file must import on every back end with
the same commits and the same state. Its secret values are in clear (it
predates sealing), so the import seals them: the commits from the first secret
on hash anew, and the old head hash is kept as the store's chain upgrade.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import retrograde
from retrograde.commands import history, transfer
from retrograde.history.files import read_lines
from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.sealing import Opener
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


FIRST_SECRET = 3
"""The first revision that sets a secret value (every hash before it stays as it was)."""


def test_the_old_export_imports_with_the_same_state_and_its_head_hash_kept(
    ctx: retrograde.Context,
) -> None:
    """Same commits and state (secrets opened); the old head hash leads to the new one."""
    shutil.copy(EXPORT, ctx.cwd / EXPORT.name)
    report = transfer.import_(ctx, Path(EXPORT.name))
    rev, old_hash = EXPECTED["head"]["rev"], EXPECTED["head"]["hash"]
    head = store_calls.head(ctx.store)
    assert report.last_rev == rev and head == (rev, report.last_hash)
    assert report.extra["chain_upgrade"] == {
        "old_rev": rev,
        "old_hash": old_hash,
        "new_hash": head[1],
    }
    commits = retrograde.log(ctx, LogQuery(limit=1_000))
    hashes = {c.rev: c.hash for c in commits}
    old = _file_commits()
    assert {r: h for r, h in hashes.items() if r < FIRST_SECRET} == {
        r: h for r, h in old.items() if r < FIRST_SECRET
    }
    assert all(hashes[r] != old[r] for r in old if r >= FIRST_SECRET)
    assert {c.action.value for c in commits} >= {"run", "update", "remove"}
    assert any(c.reverts for c in commits)
    opener = Opener(ctx.keys.box)
    state = {n: s.to_json() for n, s in opener.states(store_calls.load_state(ctx.store)).items()}
    assert state == EXPECTED["state"]
    assert [c.name for c in retrograde.checkpoints(ctx)] == ["renumbered"]
    verified = history.verify(ctx)
    assert verified.ok and (verified.head_rev, verified.head_hash) == head
    [upgrade] = verified.chain_upgrades
    assert (upgrade.old_rev, upgrade.old_hash, upgrade.new_hash) == (rev, old_hash, head[1])


def test_the_old_export_comes_out_again_with_the_same_records(ctx: retrograde.Context) -> None:
    """Export of the imported store holds the same commit lines, secrets opened, hashes aside."""
    shutil.copy(EXPORT, ctx.cwd / EXPORT.name)
    transfer.import_(ctx, Path(EXPORT.name))
    transfer.export(ctx, Path("again.jsonl"))
    opener = Opener(ctx.keys.box)

    def commit_records(path: Path) -> list[dict[str, object]]:
        found = []
        for line in read_lines(path):
            record = json.loads(line)
            if record.pop("kind") == "commit":
                commit = opener.commit(Commit.from_json(record))
                found.append({**commit.to_json(), "hash": None})
        return found

    again = commit_records(ctx.cwd / "again.jsonl")
    assert again == commit_records(EXPORT)
    assert "db-secret-1" not in (ctx.cwd / "again.jsonl").read_text()
