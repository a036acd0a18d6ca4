"""Reverting commits and whole applies with real shell handlers, on every store back end."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

import retrograde
from retrograde.clock import utc_now
from retrograde.commands import rollback
from retrograde.errors import ConflictError, NotFoundError, StateError, StoreLockedError
from retrograde.model.journal import LockHolder
from tests import store_calls
from tests.rollback.applying import apply_staged, apply_text, rev_of, state_json
from tests.rollback.stacks import (
    BOTH,
    KEYSTONE1,
    KEYSTONE2,
    NODE1,
    NODES,
    V1,
    V2,
    actions_run,
    conf_files,
    haproxy,
    nodes,
    stack,
    write,
)


def test_reverting_the_keystone_move_is_three_actions_and_restores_the_files(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Reverting the move runs keystone1, updates haproxy, removes keystone2; files return."""
    apply_text(ctx, tmp_path, V1, "v1")
    before_state, before_files = state_json(ctx), conf_files(tmp_path)
    move = apply_text(ctx, tmp_path, V2, "move keystone")
    assert conf_files(tmp_path) != before_files
    preview = rollback.revert(ctx, apply_id=move.apply_id)
    assert preview.plan.to_json() == {
        "actions": [
            {"resource": "keystone1", "action": "run", "after": []},
            {"resource": "haproxy", "action": "update", "after": ["keystone1"]},
            {"resource": "keystone2", "action": "remove", "after": ["haproxy"]},
        ]
    }
    ran = len(actions_run(tmp_path))
    undo = apply_staged(ctx, "undo the move")
    assert actions_run(tmp_path)[ran:] == ["run keystone1", "update haproxy", "remove keystone2"]
    assert state_json(ctx) == before_state
    assert conf_files(tmp_path) == before_files
    commits = {c.resource: c for c in retrograde.log(ctx) if c.apply_id == undo.apply_id}
    assert {name: c.reverts for name, c in commits.items()} == {
        "keystone1": (7,),
        "haproxy": (6,),
        "keystone2": (5,),
    }


def test_reverting_a_revert_is_a_redo(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Reverting the apply that reverted the move moves keystone again, in three actions."""
    apply_text(ctx, tmp_path, V1)
    move = apply_text(ctx, tmp_path, V2)
    moved_state, moved_files = state_json(ctx), conf_files(tmp_path)
    rollback.revert(ctx, apply_id=move.apply_id)
    undo = apply_staged(ctx)
    redo_preview = rollback.revert(ctx, apply_id=undo.apply_id)
    assert [(a.resource, a.action.value) for a in redo_preview.plan.actions] == [
        ("keystone2", "run"),
        ("haproxy", "update"),
        ("keystone1", "remove"),
    ]
    apply_staged(ctx)
    assert state_json(ctx) == moved_state
    assert conf_files(tmp_path) == moved_files


def test_reverting_one_removal_restores_both_directions_of_its_connections(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A removed keystone2 comes back with node2.ip and into haproxy's backends, in place."""
    apply_text(ctx, tmp_path, BOTH)
    both_state = state_json(ctx)
    drop = apply_text(ctx, tmp_path, stack(NODES, KEYSTONE1, haproxy("${keystone1.ip}")))
    removal = next(
        c for c in retrograde.log(ctx) if c.apply_id == drop.apply_id and c.action.value == "remove"
    )
    assert removal.consumers == {"haproxy": {"backends": ["keystone1.ip", "keystone2.ip"]}}
    preview = rollback.revert(ctx, [removal.rev])
    assert {n: (c.action.value, c.reverts) for n, c in preview.changes.items()} == {
        "keystone2": ("run", (removal.rev,)),
        "haproxy": ("update", ()),
    }
    apply_staged(ctx)
    assert state_json(ctx) == both_state
    later = retrograde.stage(
        ctx,
        write(
            tmp_path,
            "ip.yaml",
            stack(
                nodes(node2="10.20.0.30"),
                KEYSTONE1,
                KEYSTONE2,
                haproxy("${keystone1.ip}", "${keystone2.ip}"),
            ),
        ),
    )
    assert sorted(later) == ["haproxy", "keystone2", "node2"]
    assert later["haproxy"].diff["backends"]["to"] == ["10.20.0.2", "10.20.0.30"]


def test_a_stale_revert_is_refused_and_stages_nothing(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Reverting an update whose value changed since names resource, input, expected, current."""
    apply_text(ctx, tmp_path, V1)
    first = apply_text(
        ctx, tmp_path, stack(nodes(node1="10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}"))
    )
    apply_text(
        ctx, tmp_path, stack(nodes(node1="10.20.0.22"), KEYSTONE1, haproxy("${keystone1.ip}"))
    )
    node1_rev = rev_of(ctx, first, "node1")
    with pytest.raises(ConflictError) as caught:
        rollback.revert(ctx, [node1_rev])
    error = caught.value
    assert (error.resource, error.input, error.expected, error.current) == (
        "node1",
        "ip",
        "10.20.0.12",
        "10.20.0.22",
    )
    assert "node1.ip" in str(error) and "10.20.0.12" in str(error) and "10.20.0.22" in str(error)
    assert retrograde.diff(ctx) == {}
    forced = rollback.revert(ctx, [node1_rev], force=True)
    assert forced.changes["node1"].diff == {"ip": {"from": "10.20.0.22", "to": "10.20.0.2"}}
    assert sorted(forced.changes) == ["haproxy", "keystone1", "node1"]


def test_a_conflict_on_a_secret_input_masks_its_values(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """The conflict message shows *** for a secret input, never its values."""
    keystone = KEYSTONE1.replace('ip: "${node1.ip}"', 'ip: "${node1.ip}", password: PW')
    apply_text(ctx, tmp_path, stack(NODES, keystone.replace("PW", "old-pw")))
    first = apply_text(ctx, tmp_path, stack(NODES, keystone.replace("PW", "mid-pw")))
    apply_text(ctx, tmp_path, stack(NODES, keystone.replace("PW", "new-pw")))
    with pytest.raises(ConflictError) as caught:
        rollback.revert(ctx, apply_id=first.apply_id)
    assert caught.value.input == "password"
    assert "***" in str(caught.value)
    assert "pw" not in str(caught.value) and "pw" not in repr(caught.value.expected)


def test_reverting_a_run_that_others_now_depend_on_is_a_conflict(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Keystone2's creation cannot be reverted while haproxy takes its address."""
    apply_text(ctx, tmp_path, V1)
    run_k2 = apply_text(
        ctx, tmp_path, stack(NODES, KEYSTONE1, KEYSTONE2, haproxy("${keystone1.ip}"))
    )
    apply_text(ctx, tmp_path, BOTH)
    with pytest.raises(
        ConflictError, match=r"haproxy\.backends is connected to \$\{keystone2\.ip\}"
    ):
        rollback.revert(ctx, apply_id=run_k2.apply_id, force=True)
    assert retrograde.diff(ctx) == {}


def test_revert_of_a_creation_removes_the_resource(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Reverting the run of an unconnected keystone2 removes it and its file."""
    apply_text(ctx, tmp_path, V1)
    files = conf_files(tmp_path)
    created = apply_text(
        ctx, tmp_path, stack(NODES, KEYSTONE1, KEYSTONE2, haproxy("${keystone1.ip}"))
    )
    preview = rollback.revert(ctx, list(created.commits))
    assert [(a.resource, a.action.value) for a in preview.plan.actions] == [("keystone2", "remove")]
    apply_staged(ctx)
    assert "keystone2" not in retrograde.state(ctx).resources
    assert conf_files(tmp_path) == files


def test_revert_of_an_update_stages_the_consumers_the_value_flows_to(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Reverting node1.ip's own commit stages keystone1 and haproxy too, without reverts."""
    apply_text(ctx, tmp_path, V1)
    original, files = state_json(ctx), conf_files(tmp_path)
    change = apply_text(
        ctx, tmp_path, stack(nodes(node1="10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}"))
    )
    node1_rev = rev_of(ctx, change, "node1")
    preview = rollback.revert(ctx, [node1_rev])
    assert {n: c.reverts for n, c in preview.changes.items()} == {
        "haproxy": (),
        "keystone1": (),
        "node1": (node1_rev,),
    }
    assert preview.changes["haproxy"].diff == {
        "backends": {"from": ["10.20.0.12"], "to": ["10.20.0.2"]}
    }
    apply_staged(ctx)
    assert state_json(ctx) == original
    assert conf_files(tmp_path) == files


def test_revert_of_a_connected_update_after_a_disconnect_leaves_the_consumer(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Once keystone1.ip is a literal, reverting node1.ip's update no longer reaches it."""
    apply_text(ctx, tmp_path, V1)
    change = apply_text(
        ctx, tmp_path, stack(nodes(node1="10.20.0.12"), KEYSTONE1, haproxy("${keystone1.ip}"))
    )
    literal = KEYSTONE1.replace('"${node1.ip}"', "10.0.0.9")
    apply_text(ctx, tmp_path, stack(nodes(node1="10.20.0.12"), literal, haproxy("${keystone1.ip}")))
    node1_rev = rev_of(ctx, change, "node1")
    preview = rollback.revert(ctx, [node1_rev])
    assert list(preview.changes) == ["node1"]
    apply_staged(ctx)
    resources = retrograde.state(ctx).resources
    assert resources["node1"].inputs["ip"] == "10.20.0.2"
    assert resources["keystone1"].inputs["ip"] == "10.0.0.9"
    assert resources["haproxy"].inputs["backends"] == ["10.0.0.9"]


def test_only_the_consumer_of_the_changed_input_is_staged(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Of two inputs of keystone1 consumed by two resources, changing one stages one consumer."""
    two_consumers = (
        KEYSTONE1.replace('{ip: "${node1.ip}"}', '{ip: "${node1.ip}", admin_ip: 10.9.0.1}')
        + '\n  public: {type: lb, inputs: {backends: ["${keystone1.ip}"]}}'
        + '\n  admin: {type: lb, inputs: {backends: ["${keystone1.admin_ip}"]}}\n'
    )
    apply_text(ctx, tmp_path, stack(NODES, two_consumers))
    changed = apply_text(ctx, tmp_path, stack(NODES, two_consumers.replace("10.9.0.1", "10.9.0.2")))
    assert sorted(c.resource for c in retrograde.log(ctx) if c.apply_id == changed.apply_id) == [
        "admin",
        "keystone1",
    ]
    preview = rollback.revert(ctx, apply_id=changed.apply_id)
    assert sorted(preview.changes) == ["admin", "keystone1"]
    assert preview.changes["keystone1"].diff == {"admin_ip": {"from": "10.9.0.2", "to": "10.9.0.1"}}


def test_revert_of_a_removal_recreates_inputs_and_tags(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A removed node comes back with its address and tag, and its file is written again."""
    apply_text(ctx, tmp_path, V1)
    original, files = state_json(ctx), conf_files(tmp_path)
    removed = apply_text(ctx, tmp_path, stack(NODE1, KEYSTONE1, haproxy("${keystone1.ip}")))
    assert "node2" not in retrograde.state(ctx).resources
    preview = rollback.revert(ctx, apply_id=removed.apply_id)
    node2 = preview.changes["node2"]
    assert (node2.action.value, node2.after.tags if node2.after else None) == (
        "run",
        {"node": "node2"},
    )
    apply_staged(ctx)
    assert state_json(ctx) == original
    assert conf_files(tmp_path) == files


def test_discard_drops_staged_creations_updates_removals_and_connections(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Each kind of staged change can be discarded alone, and committed state stays."""
    apply_text(ctx, tmp_path, V1)
    original = state_json(ctx)
    moved = stack(nodes(node1="10.20.0.12"), KEYSTONE2, haproxy("${keystone2.ip}"))
    staged = retrograde.stage(ctx, write(tmp_path, "next.yaml", moved))
    assert {n: c.action.value for n, c in staged.items()} == {
        "haproxy": "update",
        "keystone1": "remove",
        "keystone2": "run",
        "node1": "update",
    }
    assert staged["haproxy"].after is not None
    assert staged["haproxy"].after.connections == {"backends": ["keystone2.ip"]}
    for name in ("keystone2", "node1", "keystone1", "haproxy"):
        assert retrograde.discard(ctx, [name]) == [name]
        assert name not in retrograde.diff(ctx)
    assert retrograde.diff(ctx) == {}
    assert state_json(ctx) == original


def test_revert_refuses_while_changes_are_staged(ctx: retrograde.Context, tmp_path: Path) -> None:
    """A staged log makes revert and rollback refuse, and stays as it was."""
    report = apply_text(ctx, tmp_path, V1)
    staged = retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    with pytest.raises(StateError, match="staged"):
        rollback.revert(ctx, apply_id=report.apply_id)
    with pytest.raises(StateError, match="staged"):
        rollback.rollback(ctx, 0)
    assert retrograde.diff(ctx) == staged


def test_dry_run_stages_nothing(ctx: retrograde.Context, tmp_path: Path) -> None:
    """A dry run returns the changes and plan but leaves the staged log empty."""
    apply_text(ctx, tmp_path, V1)
    move = apply_text(ctx, tmp_path, V2)
    preview = rollback.revert(ctx, apply_id=move.apply_id, dry_run=True)
    assert (preview.staged, len(preview.plan), preview.reverts) == (False, 3, (5, 6, 7))
    assert retrograde.diff(ctx) == {}


def test_unknown_revisions_and_applies_are_not_found(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Reverting a revision or apply that does not exist names it."""
    apply_text(ctx, tmp_path, V1)
    with pytest.raises(NotFoundError, match="revision 99"):
        rollback.revert(ctx, [2, 99])
    with pytest.raises(NotFoundError, match="apply 42"):
        rollback.revert(ctx, apply_id=42)


def test_handlers_receive_the_reverted_values(ctx: retrograde.Context, tmp_path: Path) -> None:
    """The re-created keystone1's file holds its old inputs, secret included."""
    apply_text(ctx, tmp_path, V1)
    move = apply_text(ctx, tmp_path, V2)
    assert not (tmp_path / "keystone1.conf").exists()
    rollback.revert(ctx, apply_id=move.apply_id)
    apply_staged(ctx)
    written = json.loads((tmp_path / "keystone1.conf").read_text())
    assert written == {"ip": "10.20.0.2", "admin_ip": "", "port": 5000, "password": "s3cret"}


def test_revert_and_rollback_are_refused_while_another_process_holds_the_store(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Like stage, revert and rollback need the store lock; a dry run does not."""
    report = apply_text(ctx, tmp_path, V1)
    other = LockHolder("apply", "someone", socket.gethostname(), os.getpid(), utc_now())
    grant = store_calls.acquire_lock(ctx.store, other, 60.0)
    try:
        with pytest.raises(StoreLockedError):
            rollback.revert(ctx, apply_id=report.apply_id)
        with pytest.raises(StoreLockedError):
            rollback.rollback(ctx, 0)
        assert len(rollback.revert(ctx, apply_id=report.apply_id, dry_run=True).plan) == 4
    finally:
        store_calls.release_lock(ctx.store, grant)
    assert retrograde.diff(ctx) == {}


def test_reverting_a_version_raise_sets_the_version_back(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Nodes updated to type version 2 go back to version 1 when that apply is reverted."""
    apply_text(ctx, tmp_path, V1)
    original = state_json(ctx)
    raised = apply_text(
        ctx, tmp_path, V1.replace("  node:\n    version: 1", "  node:\n    version: 2")
    )
    versions = {n: rs.version for n, rs in retrograde.state(ctx).resources.items()}
    assert versions == {"node1": 2, "node2": 2, "keystone1": 1, "haproxy": 1}
    node1_rev = rev_of(ctx, raised, "node1")
    assert store_calls.kinds_before(ctx.store, [node1_rev, 1]) == {node1_rev: ("node", 1)}
    preview = rollback.revert(ctx, apply_id=raised.apply_id)
    assert sorted(preview.changes) == ["node1", "node2"]
    apply_staged(ctx)
    assert state_json(ctx) == original
