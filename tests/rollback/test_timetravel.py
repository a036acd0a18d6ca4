"""State at any revision, diffs between revisions, and committed state as a stack file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import retrograde
from retrograde.commands import rollback, timetravel
from retrograde.errors import NotFoundError
from retrograde.planning.replay import replay
from retrograde.storage.sql import snapshots
from retrograde.storage.sql.schema import snapshots as snapshots_table
from retrograde.storage.sql.store import SqlStore
from tests import store_calls
from tests.rollback.applying import apply_staged, apply_text, state_json
from tests.rollback.stacks import (
    BOTH,
    KEYSTONE1,
    NODES,
    TYPES,
    V1,
    V2,
    haproxy,
    nodes,
    stack,
    write,
)

DEFAULT_PASSWORD = retrograde.StackVars([("service_password_default", "s3cret")])
"""The value of the secret var a printed stack declares for the service type's default."""


def snapshot_count(ctx: retrograde.Context) -> int:
    assert isinstance(ctx.store, SqlStore)
    with ctx.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(snapshots_table)).scalar_one())


def test_state_at_every_revision_equals_replaying_the_log_from_the_start(
    ctx: retrograde.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With snapshots every few revisions, state at each revision matches a full replay."""
    monkeypatch.setattr(snapshots, "SNAPSHOT_EVERY", 3)
    for text in (V1, V2, BOTH, stack(nodes("10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}"))):
        apply_text(ctx, tmp_path, text)
    head, _ = store_calls.head(ctx.store)
    assert snapshot_count(ctx) >= 3
    commits = store_calls.get_commits(ctx.store, range(1, head + 1))
    for rev in range(head + 1):
        assert store_calls.state_at(ctx.store, rev) == replay(commits[:rev]), rev
    assert store_calls.state_at(ctx.store, head) == store_calls.load_state(ctx.store)


def test_a_snapshot_is_skipped_while_it_would_be_younger_than_the_state_is_large(
    ctx: retrograde.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots are spaced by at least their resource count times the spacing factor."""
    monkeypatch.setattr(snapshots, "SNAPSHOT_EVERY", 2)
    monkeypatch.setattr(snapshots, "SPACING_PER_RESOURCE", 1.0)
    apply_text(ctx, tmp_path, V1)  # revisions 1-4, one snapshot of 4 resources
    first = snapshot_count(ctx)
    apply_text(ctx, tmp_path, stack(nodes("10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}")))
    assert store_calls.head(ctx.store)[0] == 7
    assert snapshot_count(ctx) == first  # 7 - 4 < 4 resources: no new snapshot yet
    apply_text(ctx, tmp_path, V1)
    assert snapshot_count(ctx) == first + 1


def test_state_at_a_checkpoint_shows_resources_since_removed(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """state --at a checkpoint shows keystone1 as it was, after it was removed."""
    apply_text(ctx, tmp_path, V1)
    rollback.checkpoint(ctx, "v1")
    v1 = state_json(ctx)
    apply_text(ctx, tmp_path, V2)
    past = timetravel.state_at(ctx, "v1")
    assert past.rev == 4
    assert {n: rs.to_json() for n, rs in past.resources.items()} == v1
    one = timetravel.state_at(ctx, 4, "keystone1")
    assert list(one.resources) == ["keystone1"]
    with pytest.raises(NotFoundError, match="keystone2"):
        timetravel.state_at(ctx, "v1", "keystone2")
    with pytest.raises(NotFoundError, match="revision 8"):
        timetravel.state_at(ctx, 8)


def test_diff_between_revisions_and_checkpoints(ctx: retrograde.Context, tmp_path: Path) -> None:
    """diff from a checkpoint to now lists the move; the other way round, its undoing."""
    apply_text(ctx, tmp_path, V1)
    rollback.checkpoint(ctx, "v1")
    apply_text(ctx, tmp_path, V2)
    forward = timetravel.diff_revisions(ctx, "v1", None)
    assert (forward.old.rev, forward.old.checkpoint, forward.new.rev) == (4, "v1", 7)
    assert {n: c.action.value for n, c in forward.changes.items()} == {
        "haproxy": "update",
        "keystone1": "remove",
        "keystone2": "run",
    }
    backward = timetravel.diff_revisions(ctx, None, "v1")
    assert {n: c.action.value for n, c in backward.changes.items()} == {
        "haproxy": "update",
        "keystone1": "run",
        "keystone2": "remove",
    }
    assert backward.changes["haproxy"].diff == {
        "backends": {"from": ["10.20.0.3"], "to": ["10.20.0.2"]}
    }
    assert timetravel.diff_revisions(ctx, 2, 2).changes == {}


SPECIAL = (
    TYPES.replace(
        "  lb:\n",
        "  note:\n    version: 1\n    inputs:\n      text: {type: string}\n"
        "      items: {type: list}\n    actions: {}\n  lb:\n",
    )
    + "resources:"
    + NODES
    + '\n  memo: {type: note, inputs: {text: "uses $${HOME} literally",'
    + ' items: ["${node1.ip}", "$${x}", 7, "${node2.ip}"]}}'
    + '\n  vault: {type: service, inputs: {ip: "${node1.ip}", password: hunter2}}\n'
)


def test_state_as_a_stack_file_stages_nothing_over_the_same_state(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """state --stack after a revert restages to nothing; escapes and list connections survive."""
    apply_text(ctx, tmp_path, V1)
    move = apply_text(ctx, tmp_path, V2)
    rollback.revert(ctx, apply_id=move.apply_id)
    apply_staged(ctx)
    text = timetravel.stack(ctx, retrograde.state(ctx))
    assert "${keystone1.ip}" in text and "s3cret" not in text
    assert text.count("default: ${var.service_password_default}") == 1
    back = write(tmp_path, "back.yaml", text)
    assert retrograde.stage(ctx, back, stack_vars=DEFAULT_PASSWORD) == {}


def test_stack_file_escapes_literals_and_masks_secrets(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Literal ${ is written $${, list elements keep their places, a set secret prints as a
    secret var."""
    apply_text(ctx, tmp_path, SPECIAL)
    text = timetravel.stack(ctx, retrograde.state(ctx))
    assert "hunter2" not in text and "s3cret" not in text and "***" not in text
    assert "# Secret values" in text
    assert "password: ${var.vault_password}" in text
    written = write(tmp_path, "back.yaml", text)
    given = retrograde.StackVars([*DEFAULT_PASSWORD.values, ("vault_password", "hunter2")])
    assert retrograde.stage(ctx, written, stack_vars=given) == {}
    memo = retrograde.state(ctx).resources["memo"]
    assert memo.inputs == {
        "text": "uses ${HOME} literally",
        "items": ["10.20.0.2", "${x}", 7, "10.20.0.3"],
    }
