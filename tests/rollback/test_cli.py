"""The rollback verbs on the command line: JSON shapes, human output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrograde.cli.session import json_text
from tests.rollback.conftest import Invoke
from tests.rollback.stacks import V1, V2, actions_run, write


@pytest.fixture
def moved(invoke: Invoke, tmp_path: Path) -> Invoke:
    """A store where V1 was applied (apply 1, checkpoint ``v1``) and then V2 (apply 2)."""
    write(tmp_path, "v1.yaml", V1)
    write(tmp_path, "v2.yaml", V2)
    assert invoke("apply", "v1.yaml", "--yes").exit_code == 0
    assert invoke("checkpoint", "v1", "-m", "first deployment").exit_code == 0
    assert invoke("apply", "v2.yaml", "--yes").exit_code == 0
    return invoke


def test_checkpoint_and_checkpoints_json(moved: Invoke) -> None:
    """checkpoints --json lists name, rev, description, principal and timestamp."""
    made = json.loads(moved("checkpoint", "v2", "--json").output)
    assert (made["name"], made["rev"]) == ("v2", 7)
    listed = json.loads(moved("checkpoints", "--json").output)["checkpoints"]
    assert [(c["name"], c["rev"], c["description"], c["principal"]) for c in listed] == [
        ("v1", 4, "first deployment", "tester"),
        ("v2", 7, "", "tester"),
    ]
    assert set(listed[0]) == {"name", "rev", "description", "principal", "timestamp"}
    assert "first deployment" in moved("checkpoints").output


def test_a_second_checkpoint_with_a_name_is_one_error_line(moved: Invoke) -> None:
    """A taken name exits 1 with one line naming it."""
    result = moved("checkpoint", "v1")
    assert result.exit_code == 1
    assert result.output.strip() == "error: checkpoint 'v1' already exists (at rev 4)"


def test_revert_apply_json_and_apply_runs_the_plan(moved: Invoke, tmp_path: Path) -> None:
    """revert --apply --json gives reverts, changes and plan; apply then runs three actions."""
    view = json.loads(moved("revert", "--apply", "2", "--json").output)
    assert view["staged"] is True and view["reverts"] == [5, 6, 7] and view["target"] is None
    assert view["changes"]["keystone1"]["action"] == "run"
    assert view["changes"]["keystone1"]["diff"]["password"] == {"from": None, "to": "***"}
    assert [a["resource"] for a in view["plan"]["actions"]] == ["keystone1", "haproxy", "keystone2"]
    assert json.loads(moved("diff", "--json").output)["changes"].keys() == view["changes"].keys()
    before = len(actions_run(tmp_path))
    assert moved("apply", "--yes").exit_code == 0
    assert actions_run(tmp_path)[before:] == ["run keystone1", "update haproxy", "remove keystone2"]
    show = json.loads(moved("show", "8", "--json").output)
    assert (show["resource"], show["reverts"]) == ("keystone1", [7])


def test_revert_prints_the_diff_and_the_plan(moved: Invoke) -> None:
    """The human preview lists each change, the plan table, and that nothing was staged."""
    output = moved("revert", "5", "6", "7", "--dry-run").output
    assert "revert rev 5, 6, 7" in output
    assert "+ run keystone1" in output and "- remove keystone2" in output
    assert "plan: 3 action(s)" in output and "Dry run: nothing was staged." in output
    assert json.loads(moved("diff", "--json").output)["changes"] == {}


def test_revert_usage_errors_exit_2(moved: Invoke) -> None:
    """No revisions, or revisions and --apply together, are usage errors."""
    assert moved("revert").exit_code == 2
    assert moved("revert", "5", "--apply", "2").exit_code == 2


def test_a_conflict_is_one_line_and_exit_1(moved: Invoke) -> None:
    """Reverting the run of keystone2, which haproxy uses, names the connection."""
    result = moved("revert", "5")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: cannot revert rev 5 (run of 'keystone2'):"
        " haproxy.backends is connected to ${keystone2.ip} now"
    )


def test_rollback_to_a_checkpoint_by_tag(moved: Invoke) -> None:
    """rollback v1 --tag node=node1 --json stages keystone1's return only (plus data flow)."""
    view = json.loads(moved("rollback", "v1", "--tag", "node=node1", "--json", "--dry-run").output)
    assert view["target"] == {"rev": 4, "checkpoint": "v1"}
    assert view["staged"] is False
    assert {n: c["action"] for n, c in view["changes"].items()} == {"keystone1": "run"}
    assert moved("rollback", "v1", "--tag", "node").exit_code == 2


def test_state_at_and_diff_between_revisions(moved: Invoke) -> None:
    """state --at v1 --json shows keystone1; diff --from v1 --json is the move."""
    past = json.loads(moved("state", "--at", "v1", "--json").output)
    assert past["rev"] == 4 and "keystone1" in past["resources"]
    assert past["resources"]["keystone1"]["inputs"]["password"] == "***"
    diff = json.loads(moved("diff", "--from", "v1", "--json").output)
    assert diff["from"] == {"rev": 4, "checkpoint": "v1"}
    assert diff["to"] == {"rev": 7, "checkpoint": None}
    assert {n: c["action"] for n, c in diff["changes"].items()} == {
        "haproxy": "update",
        "keystone1": "remove",
        "keystone2": "run",
    }
    assert "Changes from rev 4 (checkpoint v1) to rev 7" in moved("diff", "--from", "v1").output
    assert moved("diff", "--to", "nope").exit_code == 1


def test_state_stack_prints_a_stack_file(moved: Invoke, tmp_path: Path) -> None:
    """state --stack writes a stack file that stages nothing once its secret vars are given."""
    text = moved("state", "--stack").output
    assert "${keystone2.ip}" in text and "s3cret" not in text
    write(tmp_path, "back.yaml", text)
    given = ("--var", "service_password_default=s3cret")
    assert json.loads(moved("stage", "back.yaml", *given, "--json").output)["changes"] == {}
    assert moved("state", "--stack", "--json").exit_code == 2


def test_every_new_command_explains_itself(invoke: Invoke) -> None:
    """--help of each new verb and option says what it does."""
    assert "undoing of commits" in invoke("revert", "--help").output
    assert "--dry-run" in invoke("rollback", "--help").output
    assert "immutable" in invoke("checkpoint", "--help").output
    assert "--at" in invoke("state", "--help").output
    assert "--from" in invoke("diff", "--help").output


def test_json_text_is_the_standard_indented_json_and_keeps_huge_integers() -> None:
    """The fast encoder writes what json.dumps(indent=2) writes; 70-bit integers stay exact."""
    value = {"rev": 3, "resources": {"é": {"inputs": {"l": [1, 2.5, None, True], "e": {}}}}}
    assert json_text(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert json_text({"n": 2**70}) == '{\n  "n": 1180591620717411303424\n}'
