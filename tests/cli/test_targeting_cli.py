"""--target/--tag/--exclude, plan --detailed-exitcode and saved plans on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.commands.stacks import V1, V2, actions_run, write


def staged_move(invoke: Invoke, tmp_path: Path) -> None:
    """V1 applied, V2 (the keystone move) staged."""
    assert invoke("apply", write(tmp_path, "v1.yaml", V1).name, "--yes").exit_code == 0
    assert invoke("stage", write(tmp_path, "v2.yaml", V2).name).exit_code == 0


def test_detailed_exitcode_is_0_without_work_2_with_work_1_on_errors(
    invoke: Invoke, tmp_path: Path
) -> None:
    """0 nothing to do, 2 changes, 1 for a domain error and for a usage error alike."""
    assert invoke("plan", "--detailed-exitcode").exit_code == 0
    staged_move(invoke, tmp_path)
    assert invoke("plan", "--detailed-exitcode").exit_code == 2
    assert invoke("plan", "--detailed-exitcode", "--json").exit_code == 2
    unknown = invoke("plan", "--detailed-exitcode", "--target", "ghost")
    assert unknown.exit_code == 1 and "ghost" in unknown.output
    assert invoke("plan", "--detailed-exitcode", "--tag", "novalue").exit_code == 1
    assert invoke("plan", "--detailed-exitcode", "--limit", "0").exit_code == 1
    assert invoke("plan", "--tag", "novalue").exit_code == 2  # without the flag, as ever


def test_plan_target_lists_the_selected_actions(invoke: Invoke, tmp_path: Path) -> None:
    """plan --target keystone1 lists the removal with what it needs, in plan order."""
    staged_move(invoke, tmp_path)
    view = json.loads(invoke("plan", "--target", "keystone1", "--json").stdout)
    assert [a["resource"] for a in view["actions"]] == ["keystone2", "haproxy", "keystone1"]
    text = invoke("plan", "--target", "keystone2").output
    assert "keystone2" in text and "haproxy" not in text
    assert "Plan: 1 to run, 0 to update, 0 to remove." in text


def test_an_exclusion_a_target_needs_is_one_line_exit_1(invoke: Invoke, tmp_path: Path) -> None:
    """The refusal names both resources on one line."""
    staged_move(invoke, tmp_path)
    result = invoke("apply", "--yes", "--target", "haproxy", "--exclude", "keystone2")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "'keystone2'" in result.output and "'haproxy'" in result.output


def test_stage_and_apply_with_tags(invoke: Invoke, tmp_path: Path) -> None:
    """stage --tag node=node2 stages node2's resources and what they need; apply runs them."""
    write(tmp_path, "v1.yaml", V1)
    staged = json.loads(invoke("stage", "v1.yaml", "--tag", "node=node2", "--json").stdout)
    assert sorted(staged["changes"]) == ["haproxy", "keystone1", "node1", "node2"]
    invoke("discard")
    staged = json.loads(invoke("stage", "v1.yaml", "--target", "node2", "--json").stdout)
    assert sorted(staged["changes"]) == ["node2"]
    invoke("stage", "v1.yaml")
    applied = json.loads(invoke("apply", "--yes", "--json", "--tag", "node=node1").stdout)
    assert applied["status"] == "succeeded"
    assert sorted(line.split()[1] for line in actions_run(tmp_path)) == ["keystone1", "node1"]
    left = json.loads(invoke("diff", "--json").stdout)["changes"]
    assert sorted(left) == ["haproxy", "node2"]


def test_a_saved_plan_round_trip_with_json(invoke: Invoke, tmp_path: Path) -> None:
    """plan -o FILE --json names the file, digest and head; apply FILE runs it without --yes."""
    staged_move(invoke, tmp_path)
    saved = json.loads(invoke("plan", "-o", "move.plan", "--json").stdout)
    assert [a["resource"] for a in saved["actions"]] == ["keystone2", "haproxy", "keystone1"]
    assert saved["plan_file"]["path"] == "move.plan"
    assert saved["plan_file"]["head"]["rev"] == 4 and len(saved["plan_file"]["digest"]) == 64
    applied = invoke("apply", "move.plan", "--json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["commits"] == [5, 6, 7]
    again = invoke("apply", "move.plan")
    assert again.exit_code == 1
    assert "changed since it was made" in again.output
    assert "moved from revision 4 to 7" in again.output


def test_a_saved_plan_takes_no_selection(invoke: Invoke, tmp_path: Path) -> None:
    """apply FILE --target R is a usage error: the file carries its own selection."""
    staged_move(invoke, tmp_path)
    invoke("plan", "-o", "move.plan")
    result = invoke("apply", "move.plan", "--target", "keystone2")
    assert result.exit_code == 2
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 4
