"""--target, --tag and --exclude on stage, plan and apply, on every store back end."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrograde
from retrograde.errors import ExcludedNeededError, NotFoundError, StateError
from retrograde.planning.digest import change_digests
from tests import store_calls
from tests.commands.stacks import TYPES, V1, V1_NEW_IP, V2, actions_run, write

TAGGED = (
    TYPES
    + """
resources:
  a: {type: node, tags: {node: n1, role: db}, inputs: {ip: 10.0.0.1}}
  b: {type: node, tags: {node: n1, role: web}, inputs: {ip: 10.0.0.2}}
  c: {type: node, tags: {node: n2, role: db}, inputs: {ip: 10.0.0.3}}
  d: {type: node, tags: {node: n3, role: db}, inputs: {ip: 10.0.0.4}}
"""
)


def names(plan: retrograde.Plan) -> list[str]:
    return [action.resource for action in plan.actions]


def test_a_target_brings_its_producers_in_the_order_of_the_whole_plan(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """haproxy needs keystone1, which needs node1: all three, producers first."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    assert names(retrograde.plan(ctx, targets=["haproxy"])) == ["node1", "keystone1", "haproxy"]
    assert names(retrograde.plan(ctx, targets=["keystone1"])) == ["node1", "keystone1"]
    assert names(retrograde.plan(ctx, targets=["node1"])) == ["node1"]


def test_applying_a_target_leaves_the_rest_staged_untouched(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Only node1 and keystone1 run; haproxy's staged change is byte for byte what it was."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    before = change_digests(store_calls.load_staged(ctx.store))
    ran = len(actions_run(tmp_path))
    report = retrograde.apply(ctx, targets=["keystone1"])
    assert report.status is retrograde.ApplyStatus.SUCCEEDED
    assert actions_run(tmp_path)[ran:] == ["update node1", "update keystone1"]
    left = change_digests(store_calls.load_staged(ctx.store))
    assert left == {"haproxy": before["haproxy"]}
    assert retrograde.state(ctx).resources["keystone1"].inputs["ip"] == "10.20.0.12"
    assert retrograde.state(ctx).resources["haproxy"].inputs["backends"] == ["10.20.0.2"]


def test_a_removal_brings_its_former_consumers(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Removing keystone1 needs haproxy to stop using it first, and haproxy needs keystone2."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    plan = retrograde.plan(ctx, targets=["keystone1"])
    assert names(plan) == ["keystone2", "haproxy", "keystone1"]
    assert names(retrograde.plan(ctx, targets=["keystone2"])) == ["keystone2"]
    retrograde.apply(ctx, targets=["keystone1"])
    assert "keystone1" not in retrograde.state(ctx).resources
    assert retrograde.diff(ctx) == {}


def test_a_partial_apply_then_the_rest(ctx: retrograde.Context, tmp_path: Path) -> None:
    """keystone2 alone first; the move finishes with a plain apply of what stayed staged."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    retrograde.apply(ctx, targets=["keystone2"])
    assert sorted(store_calls.load_staged(ctx.store)) == ["haproxy", "keystone1"]
    assert names(retrograde.plan(ctx)) == ["haproxy", "keystone1"]
    retrograde.apply(ctx)
    assert set(retrograde.state(ctx).resources) == {"node1", "node2", "keystone2", "haproxy"}


def test_tags_of_different_keys_and_a_repeated_key_ors(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """node=n1 AND role=db is a; node=n1 OR node=n2 is a, b, c; with role=db, a and c."""
    retrograde.stage(ctx, write(tmp_path, "tagged.yaml", TAGGED))
    assert names(retrograde.plan(ctx, tags=[("node", "n1"), ("role", "db")])) == ["a"]
    assert names(retrograde.plan(ctx, tags=[("node", "n1"), ("node", "n2")])) == ["a", "b", "c"]
    either_db = [("node", "n1"), ("node", "n2"), ("role", "db")]
    assert names(retrograde.plan(ctx, tags=either_db)) == ["a", "c"]
    retrograde.apply(ctx, tags=either_db)
    assert sorted(store_calls.load_staged(ctx.store)) == ["b", "d"]


def test_an_exclusion_a_selected_resource_needs_is_refused_naming_both(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """--target haproxy --exclude node1 refuses; nothing runs and nothing is re-added."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    ran = len(actions_run(tmp_path))
    with pytest.raises(ExcludedNeededError) as refused:
        retrograde.apply(ctx, targets=["haproxy"], exclude=["node1"])
    assert (refused.value.excluded, refused.value.needed_by) == ("node1", "haproxy")
    assert "'node1'" in str(refused.value) and "'haproxy'" in str(refused.value)
    assert len(actions_run(tmp_path)) == ran
    with pytest.raises(ExcludedNeededError):
        retrograde.plan(ctx, exclude=["node1"])  # everything else needs node1 too


def test_an_exclusion_nothing_needs_leaves_it_staged(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Excluding the last consumer runs its producers and keeps it staged."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    assert names(retrograde.plan(ctx, exclude=["haproxy"])) == ["node1", "keystone1"]


def test_an_unknown_target_or_exclusion_is_an_error(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A typo never selects nothing in silence."""
    retrograde.stage(ctx, write(tmp_path, "v1.yaml", V1))
    with pytest.raises(NotFoundError, match="nodel"):
        retrograde.plan(ctx, targets=["nodel"])
    with pytest.raises(NotFoundError, match="nodel"):
        retrograde.apply(ctx, exclude=["nodel"])


def test_staging_a_target_replaces_only_its_staged_changes(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """stage v2 --target keystone2 adds keystone2 and keeps node1's staged change as it was."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP), targets=["node1"])
    assert sorted(store_calls.load_staged(ctx.store)) == ["node1"]
    node1 = change_digests(store_calls.load_staged(ctx.store))["node1"]
    chosen = retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2), targets=["keystone2"])
    assert sorted(chosen) == ["keystone2"]
    staged = change_digests(store_calls.load_staged(ctx.store))
    assert sorted(staged) == ["keystone2", "node1"]
    assert staged["node1"] == node1


def test_staging_a_removal_stages_its_former_consumers(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """stage v2 --target keystone1 stages its removal with haproxy's update and keystone2."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    chosen = retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2), targets=["keystone1"])
    assert sorted(chosen) == ["haproxy", "keystone1", "keystone2"]


def test_staging_a_target_the_file_leaves_as_committed_drops_its_staged_change(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """node1's staged new ip goes when v1 (old ip) is staged for node1, and so do the staged
    changes of its consumers that carried that ip along: nothing staged is left stale."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    chosen = retrograde.stage(ctx, tmp_path / "v1.yaml", targets=["node1"])
    assert store_calls.load_staged(ctx.store) == {}
    assert chosen == {}


def test_staging_a_producer_restages_the_consumers_whose_staged_values_follow_it(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A staged consumer holding the producer's old value is restaged with its new value."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    newer = write(tmp_path, "newer.yaml", V1.replace("10.20.0.2", "10.20.0.99"))
    chosen = retrograde.stage(ctx, newer, targets=["node1"])
    assert sorted(chosen) == ["haproxy", "keystone1", "node1"]
    staged = store_calls.load_staged(ctx.store)
    assert staged["haproxy"].after is not None
    assert staged["haproxy"].after.inputs["backends"] == ["10.20.0.99"]
    retrograde.apply(ctx)
    state = retrograde.state(ctx).resources
    assert state["keystone1"].inputs["ip"] == state["node1"].inputs["ip"] == "10.20.0.99"


def test_a_stale_consumer_cannot_be_excluded(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Excluding a staged consumer that would keep a producer's old value is refused."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    before = change_digests(store_calls.load_staged(ctx.store))
    newer = write(tmp_path, "newer.yaml", V1.replace("10.20.0.2", "10.20.0.99"))
    with pytest.raises(ExcludedNeededError, match="haproxy"):
        retrograde.stage(ctx, newer, targets=["node1"], exclude=["haproxy"])
    assert change_digests(store_calls.load_staged(ctx.store)) == before


def test_staging_an_unknown_target_is_an_error_and_stages_nothing(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A named target must be in the file, committed state or the staged log."""
    with pytest.raises(NotFoundError, match="ghost"):
        retrograde.stage(ctx, write(tmp_path, "v1.yaml", V1), targets=["ghost"])
    assert store_calls.load_staged(ctx.store) == {}


def test_a_target_with_a_type_version_raise_is_refused(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Migrate commits move every resource of a type, so such a stack is staged whole."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    migration = "migrations: [{from: 1, to: 2, default: {zone: a}}]"
    raised = V1.replace(
        "node:\n    version: 1\n    inputs:\n",
        f"node:\n    version: 2\n    {migration}\n"
        "    inputs:\n      zone: {type: string, default: a}\n",
    )
    assert raised != V1
    with pytest.raises(StateError, match="without --target"):
        retrograde.stage(ctx, write(tmp_path, "v2.yaml", raised), targets=["node1"])
    assert store_calls.load_staged(ctx.store) == {}
