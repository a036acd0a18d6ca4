"""Checkpoints and rolling back to them, for all or some resources, on every store back end."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrograde
from retrograde.commands import rollback
from retrograde.errors import AlreadyExistsError, InvalidNameError, NotFoundError
from tests.rollback.applying import apply_staged, apply_text, state_json
from tests.rollback.stacks import (
    BOTH,
    KEYSTONE1,
    KEYSTONE2,
    NODES,
    V1,
    V2,
    actions_run,
    conf_files,
    haproxy,
    nodes,
    stack,
)


def test_checkpoints_record_name_revision_principal_and_time(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A checkpoint names the newest revision (or --at one) with who, when and why."""
    apply_text(ctx, tmp_path, V1)
    made = rollback.checkpoint(ctx, "v1-deployed", message="first deployment")
    past = rollback.checkpoint(ctx, "two-nodes", at=2)
    assert (made.rev, made.description, made.principal) == (4, "first deployment", "tester")
    assert made.timestamp.endswith("Z")
    assert (past.rev, past.description) == (2, "")
    assert [c.to_json() for c in rollback.checkpoints(ctx)] == [
        past.to_json(),
        made.to_json(),
    ]


def test_checkpoints_are_immutable_and_need_a_known_revision(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A taken name, an unknown revision and an all-digit name are refused."""
    apply_text(ctx, tmp_path, V1)
    rollback.checkpoint(ctx, "stable")
    with pytest.raises(AlreadyExistsError, match="'stable' already exists"):
        rollback.checkpoint(ctx, "stable", at=1)
    with pytest.raises(NotFoundError, match="revision 5"):
        rollback.checkpoint(ctx, "future", at=5)
    for bad in ("12", "", "has space", "-dash"):
        with pytest.raises(InvalidNameError):
            rollback.checkpoint(ctx, bad)
    assert [(c.name, c.rev) for c in rollback.checkpoints(ctx)] == [("stable", 4)]


def test_rollback_of_one_node_leaves_the_other_node_untouched(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Rolling back everything tagged node=node1 restores node1's resources only."""
    two = stack(nodes(), KEYSTONE1, KEYSTONE2, haproxy("${keystone2.ip}"))
    apply_text(ctx, tmp_path, two)
    rollback.checkpoint(ctx, "good")
    good = state_json(ctx)
    apply_text(
        ctx,
        tmp_path,
        stack(nodes("10.20.0.12", "10.20.0.13"), KEYSTONE1, KEYSTONE2, haproxy("${keystone2.ip}")),
    )
    after_upgrade = state_json(ctx)
    preview = rollback.rollback(ctx, "good", tags={"node": "node1"})
    assert sorted(preview.changes) == ["keystone1", "node1"]
    assert preview.target is not None and (preview.target.rev, preview.target.checkpoint) == (
        5,
        "good",
    )
    apply_staged(ctx)
    now = state_json(ctx)
    assert {n: now[n] for n in ("node1", "keystone1")} == {
        n: good[n] for n in ("node1", "keystone1")
    }
    assert {n: now[n] for n in ("node2", "keystone2", "haproxy")} == {
        n: after_upgrade[n] for n in ("node2", "keystone2", "haproxy")
    }


def test_rollback_recreates_removed_and_removes_created_resources(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Rolling back to before the keystone move is the same three actions and the same files."""
    apply_text(ctx, tmp_path, V1)
    rollback.checkpoint(ctx, "before-move")
    before_state, before_files = state_json(ctx), conf_files(tmp_path)
    apply_text(ctx, tmp_path, V2)
    preview = rollback.rollback(ctx, "before-move")
    assert [(a.resource, a.action.value) for a in preview.plan.actions] == [
        ("keystone1", "run"),
        ("haproxy", "update"),
        ("keystone2", "remove"),
    ]
    ran = len(actions_run(tmp_path))
    apply_staged(ctx)
    assert len(actions_run(tmp_path)) == ran + 3
    assert state_json(ctx) == before_state
    assert conf_files(tmp_path) == before_files


def test_rollback_to_a_revision_number_and_of_named_resources(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """``rollback 4 --resource node1`` stages node1 back, and its consumers with it."""
    apply_text(ctx, tmp_path, V1)
    apply_text(
        ctx, tmp_path, stack(nodes(node1="10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}"))
    )
    preview = rollback.rollback(ctx, "4", resources=["node1"], dry_run=True)
    assert sorted(preview.changes) == ["haproxy", "keystone1", "node1"]
    assert preview.changes["node1"].diff == {"ip": {"from": "10.20.0.12", "to": "10.20.0.2"}}
    assert preview.staged is False and retrograde.diff(ctx) == {}


def test_rollback_refuses_to_remove_what_a_resource_left_alone_uses(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Rolling back keystone2 alone to before it existed would strand haproxy: a conflict."""
    apply_text(ctx, tmp_path, V1)
    apply_text(ctx, tmp_path, BOTH)
    with pytest.raises(retrograde.RetrogradeError, match=r"haproxy\.backends"):
        rollback.rollback(ctx, 4, resources=["keystone2"])
    assert retrograde.diff(ctx) == {}


def test_rollback_names_unknown_targets_and_resources(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """An unknown checkpoint, revision or resource is named in the error."""
    apply_text(ctx, tmp_path, stack(NODES))
    with pytest.raises(NotFoundError, match="checkpoint 'nope'"):
        rollback.rollback(ctx, "nope")
    with pytest.raises(NotFoundError, match="revision 9"):
        rollback.rollback(ctx, 9)
    with pytest.raises(NotFoundError, match="resource 'ghost'"):
        rollback.rollback(ctx, 1, resources=["ghost"])


def test_rollback_to_revision_zero_removes_everything(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Revision 0 is the empty state: consumers are removed before their producers."""
    apply_text(ctx, tmp_path, V1)
    preview = rollback.rollback(ctx, 0)
    order = [a.resource for a in preview.plan.actions]
    assert order.index("haproxy") < order.index("keystone1") < order.index("node1")
    apply_staged(ctx)
    assert retrograde.state(ctx).resources == {}
    assert conf_files(tmp_path) == {}
