"""Saved plans: `plan -o FILE` then `apply FILE` runs exactly that plan, or nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import saved_plans
from retrograde.commands.saved_plans import is_plan_file, save_plan
from retrograde.errors import PlanFileError, StalePlanError
from tests import store_calls
from tests.commands.stacks import TYPES, V1, V1_NEW_IP, V2, actions_run, write

TWO_NODES_MOVED = (
    TYPES
    + """
resources:
  node1: {type: node, inputs: {ip: 10.20.0.12}}
  node2: {type: node, inputs: {ip: 10.20.0.13}}
"""
)
TWO_NODES = TWO_NODES_MOVED.replace(".12", ".2").replace(".13", ".3")


def moved_keystone(ctx: retrograde.Context, tmp_path: Path) -> Path:
    """V1 applied, V2 staged, the plan saved to ``move.plan``."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    save_plan(ctx, Path("move.plan"))
    return tmp_path / "move.plan"


def test_a_saved_plan_is_applied_as_is(ctx: retrograde.Context, tmp_path: Path) -> None:
    """apply FILE runs the saved actions in order and leaves nothing staged."""
    path = moved_keystone(ctx, tmp_path)
    ran = len(actions_run(tmp_path))
    report = retrograde.apply(ctx, Path("move.plan"))
    assert report.status is retrograde.ApplyStatus.SUCCEEDED
    assert actions_run(tmp_path)[ran:] == ["run keystone2", "update haproxy", "remove keystone1"]
    assert store_calls.load_staged(ctx.store) == {}
    assert is_plan_file(path) and not is_plan_file(tmp_path / "v2.yaml")


def test_a_saved_plan_is_refused_after_another_stage_naming_what_changed(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A second stage replaces the staged log: refused before anything runs, resources named."""
    moved_keystone(ctx, tmp_path)
    retrograde.stage(ctx, write(tmp_path, "ip.yaml", V1_NEW_IP))
    ran = len(actions_run(tmp_path))
    head = store_calls.head(ctx.store)
    with pytest.raises(StalePlanError) as refused:
        retrograde.apply(ctx, Path("move.plan"))
    assert refused.value.resources == ("haproxy", "keystone1", "keystone2", "node1")
    assert "the staged log or committed head changed since" in str(refused.value)
    assert len(actions_run(tmp_path)) == ran
    assert store_calls.head(ctx.store) == head


def test_a_saved_plan_is_refused_after_another_apply_moved_the_head(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """node2's staged change is the same, but node1's apply moved the head: refused."""
    retrograde.apply(ctx, write(tmp_path, "nodes.yaml", TWO_NODES))
    retrograde.stage(ctx, write(tmp_path, "moved.yaml", TWO_NODES_MOVED))
    save_plan(ctx, Path("node2.plan"), targets=["node2"])
    retrograde.apply(ctx, targets=["node1"])
    with pytest.raises(StalePlanError) as refused:
        retrograde.apply(ctx, Path("node2.plan"))
    assert refused.value.resources == ()
    assert (refused.value.head[0], refused.value.head_now[0]) == (2, 3)
    assert "moved from revision 2 to 3" in str(refused.value)
    assert sorted(store_calls.load_staged(ctx.store)) == ["node2"]


def test_a_saved_selection_runs_only_the_selected_part(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A plan saved for node2 runs node2 only; node1 stays staged."""
    retrograde.apply(ctx, write(tmp_path, "nodes.yaml", TWO_NODES))
    retrograde.stage(ctx, write(tmp_path, "moved.yaml", TWO_NODES_MOVED))
    save_plan(ctx, Path("node2.plan"), targets=["node2"])
    ran = len(actions_run(tmp_path))
    retrograde.apply(ctx, Path("node2.plan"))
    assert actions_run(tmp_path)[ran:] == ["update node2"]
    assert sorted(store_calls.load_staged(ctx.store)) == ["node1"]


def test_a_plan_file_is_private_and_holds_no_input_value(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Mode 0600; neither the secret password nor any ip is in it."""
    path = moved_keystone(ctx, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    staged = store_calls.load_staged(ctx.store)["keystone2"].after
    assert staged is not None
    assert ctx.keys.box().open("keystone2", "password", staged.inputs["password"]) == "s3cret"
    assert "s3cret" not in text
    assert "10.20.0" not in text and "5000" not in text
    header = json.loads(text.partition("\n")[0])
    assert header["format"] == "retrograde-plan" and header["version"] == 1


def test_an_existing_file_is_replaced_and_made_private(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A world-readable file at the path is replaced by a 0600 one."""
    old = write(tmp_path, "move.plan", "old")
    old.chmod(0o644)
    moved_keystone(ctx, tmp_path)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and is_plan_file(old)


def _edit_body(path: Path, edit: object) -> None:
    header, _, body = path.read_text().partition("\n")
    data = json.loads(body)
    edit(data)  # type: ignore[operator]
    path.write_text(header + "\n" + json.dumps(data))


def test_a_tampered_plan_file_is_refused(ctx: retrograde.Context, tmp_path: Path) -> None:
    """An edited digest breaks the checksum; a consistent forgery still meets the store."""
    path = moved_keystone(ctx, tmp_path)
    original = path.read_text()
    _edit_body(path, lambda body: body.update(digest="0" * 64))
    with pytest.raises(PlanFileError, match="edited or damaged"):
        retrograde.apply(ctx, Path("move.plan"))
    path.write_text(original.replace('"version": 1', '"version": 9'))
    with pytest.raises(PlanFileError, match="version 9"):
        retrograde.apply(ctx, Path("move.plan"))
    assert store_calls.head(ctx.store)[0] == 4
    assert sorted(store_calls.load_staged(ctx.store)) == ["haproxy", "keystone1", "keystone2"]


def test_a_forged_plan_whose_checksum_was_recomputed_is_still_refused(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Dropping an action and fixing up the checksum: its digest no longer matches its actions."""
    path = moved_keystone(ctx, tmp_path)
    body = json.loads(path.read_text().partition("\n")[2])
    body["actions"] = body["actions"][:1]
    header = {"format": "retrograde-plan", "version": 1, "checksum": saved_plans._checksum(body)}
    path.write_text(json.dumps(header) + "\n" + json.dumps(body))
    with pytest.raises(PlanFileError, match="digest does not match"):
        retrograde.apply(ctx, Path("move.plan"))
    assert actions_run(tmp_path)[-1] == "run haproxy"  # only v1's actions ever ran
