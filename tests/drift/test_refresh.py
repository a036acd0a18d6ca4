"""refresh on both stores: real shell handlers write files, hand edits drift, reads report them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Invoke
from tests.drift.stacks import drift_stack, quoted


def _deployed(invoke: Invoke, tmp_path: Path, **options: str) -> Path:
    stack = drift_stack(tmp_path, **options)
    assert invoke("apply", "stack.yaml", "--yes", "-m", "deploy").exit_code == 0
    return stack


def _json(invoke: Invoke, *args: str) -> tuple[int, dict]:
    result = invoke(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_a_hand_edited_file_is_exactly_the_drift_reported(invoke: Invoke, tmp_path: Path) -> None:
    """Only the input the hand edit changed is shown, committed against observed, exit 2."""
    _deployed(invoke, tmp_path)
    assert invoke("refresh").exit_code == 0
    (tmp_path / "conf1.txt").write_text("edited by hand")
    code, view = _json(invoke, "refresh")
    assert code == 2
    assert view["drift"] == {
        "conf1": {"content": {"committed": "hello", "observed": "edited by hand"}}
    }
    assert view["failed"] == {}
    text = invoke("refresh")
    assert text.exit_code == 2
    assert "conf1  drifted (1 input(s))" in text.stdout and "edited by hand" in text.stdout


def test_refresh_reads_only_the_selected_resources(invoke: Invoke, tmp_path: Path) -> None:
    """Naming a resource reads only it, so drift elsewhere is not reported."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf1.txt").write_text("x")
    assert _json(invoke, "refresh", "conf2") == (
        0,
        {"drift": {}, "failed": {}, "observed": [], "staged": []},
    )
    assert (
        _json(invoke, "refresh", "--target", "conf1")[1]["drift"]["conf1"]["content"]["observed"]
        == "x"
    )


def test_accept_writes_observe_commits_and_stages_the_consumers(
    invoke: Invoke, tmp_path: Path
) -> None:
    """--accept records observe commits (an observe apply) and stages the consumer's update."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf1.txt").write_text("accepted")
    code, view = _json(invoke, "refresh", "--accept", "-m", "hand edit kept")
    assert code == 0 and view["observed"] == [4] and view["staged"] == ["user1"]
    commit = json.loads(invoke("show", "4", "--json").stdout)
    assert (commit["action"], commit["resource"], commit["message"]) == (
        "observe",
        "conf1",
        "hand edit kept",
    )
    assert commit["diff"] == {"content": {"from": "hello", "to": "accepted"}}
    assert commit["reverse"] == {"content": {"from": "accepted", "to": "hello"}}
    applies = json.loads(invoke("applies", "--json").stdout)["applies"]
    assert [a["kind"] for a in applies] == ["observe", "apply"]
    staged = json.loads(invoke("diff", "--json").stdout)["changes"]
    assert staged == {
        "user1": {"action": "update", "diff": {"greeting": {"from": "hello", "to": "accepted"}}}
    }
    assert (tmp_path / "user1.txt").read_text() == "hello"  # staged, not applied
    assert invoke("apply", "--yes").exit_code == 0
    assert (tmp_path / "user1.txt").read_text() == "accepted"
    assert invoke("refresh").exit_code == 0


def test_an_accepted_observe_commit_reverts_like_any_commit(invoke: Invoke, tmp_path: Path) -> None:
    """Reverting an observe commit stages the committed value back and apply writes it."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf2.txt").write_text("other")
    assert invoke("refresh", "--accept").exit_code == 0
    assert invoke("revert", "4").exit_code == 0
    assert invoke("apply", "--yes").exit_code == 0
    assert (tmp_path / "conf2.txt").read_text() == "world"
    assert invoke("refresh").exit_code == 0


def test_restore_then_apply_puts_the_world_back(invoke: Invoke, tmp_path: Path) -> None:
    """--restore records what was seen and stages the way back; apply rewrites the files."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf1.txt").write_text("broken")
    (tmp_path / "conf2.txt").write_text("broken too")
    code, view = _json(invoke, "refresh", "--restore")
    assert code == 0 and view["observed"] == [4, 5] and view["staged"] == ["conf1", "conf2"]
    staged = json.loads(invoke("diff", "--json").stdout)["changes"]
    assert staged["conf1"]["diff"] == {"content": {"from": "broken", "to": "hello"}}
    assert invoke("apply", "--yes").exit_code == 0
    assert (tmp_path / "conf1.txt").read_text() == "hello"
    assert (tmp_path / "conf2.txt").read_text() == "world"
    assert (tmp_path / "user1.txt").read_text() == "hello"  # the consumer never moved
    assert _json(invoke, "refresh")[0] == 0
    state = json.loads(invoke("state", "--json").stdout)
    assert state["resources"]["conf1"]["inputs"]["content"] == "hello"
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_accept_and_restore_refuse_while_changes_are_staged(invoke: Invoke, tmp_path: Path) -> None:
    """With something staged, --accept is refused in one line and nothing is written."""
    _deployed(invoke, tmp_path)
    drift_stack(tmp_path, other="staged")
    assert invoke("stage", "stack.yaml").exit_code == 0
    (tmp_path / "conf1.txt").write_text("x")
    result = invoke("refresh", "--accept")
    assert result.exit_code == 1
    assert "change(s) are staged" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 3


def test_a_failing_read_bad_json_and_an_unknown_key_fail_only_their_resource(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Each bad read is that resource's failure with a clear message; the others are compared."""
    read = (
        "case {{ inputs.content }} in hello) echo oops >&2; exit 3;; "
        'world) echo "not json";; '
        '*) echo "{\\"colour\\": 1}";; esac'
    )
    _deployed(invoke, tmp_path, read=read)
    code, view = _json(invoke, "refresh")
    assert code == 1
    assert view["failed"]["conf1"] == "read failed (exit 3): oops"
    assert view["failed"]["conf2"].startswith("read did not print one JSON object")
    assert view["drift"] == {}
    drift_stack(tmp_path, content="third", read=read)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    failed = _json(invoke, "refresh", "conf1")[1]["failed"]
    assert failed == {"conf1": "read reported 'colour', not an input of type 'conf'"}


def test_a_read_printing_a_list_or_the_wrong_kind_fails(invoke: Invoke, tmp_path: Path) -> None:
    """A JSON array is not an object of inputs; a number for a string input is refused."""
    read = "case {{ inputs.content }} in hello) echo [1];; *) echo '{\"content\": 5}';; esac"
    _deployed(invoke, tmp_path, read=read)
    failed = _json(invoke, "refresh")[1]["failed"]
    assert failed["conf1"] == "read printed a JSON array, not an object of inputs"
    assert failed["conf2"] == "read reported input 'content' as a number, its type says string"


def test_secret_drift_is_masked(invoke: Invoke, tmp_path: Path) -> None:
    """A drifted secret shows as *** in text and JSON; its value is still recorded on accept."""
    read = 'echo \'{"token": "n3w-secret-value"}\''
    _deployed(invoke, tmp_path, read=read)
    result = invoke("refresh", "conf1", "--json")
    assert json.loads(result.stdout)["drift"] == {
        "conf1": {"token": {"committed": "***", "observed": "***"}}
    }
    assert "n3w-secret-value" not in result.stdout and "t0ken-value" not in result.stdout
    text = invoke("refresh", "conf1").stdout
    assert "n3w-secret-value" not in text and "***" in text


def test_accepting_drift_of_a_connected_input_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    """A consumer's connected input takes its producer's value: accepting drift there is refused."""
    stack = _deployed(invoke, tmp_path)
    read = quoted('echo \'{"greeting": "hand"}\'')
    text = stack.read_text().replace(
        "      remove: {shell: 'rm -f {{ inputs.path }}'}",
        f"      remove: {{shell: 'rm -f {{{{ inputs.path }}}}'}}\n      read: {{shell: {read}}}",
    )
    stack.write_text(text)
    assert invoke("stage", "stack.yaml").exit_code == 0 and invoke("apply", "--yes").exit_code == 0
    result = invoke("refresh", "user1", "--accept")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: cannot accept drift of user1.greeting: it is connected to conf1.content; "
        "change the producer, or use --restore"
    )
    assert invoke("refresh", "user1").exit_code == 2


def test_plan_refresh_shows_drift_beside_the_plan(invoke: Invoke, tmp_path: Path) -> None:
    """plan --refresh shows the drift first and carries it in --json, recording nothing."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf2.txt").write_text("seen")
    view = json.loads(invoke("plan", "--refresh", "--json").stdout)
    assert view["actions"] == []
    assert view["refresh"]["drift"] == {
        "conf2": {"content": {"committed": "world", "observed": "seen"}}
    }
    text = invoke("plan", "--refresh").stdout
    assert text.index("conf2  drifted") < text.index("Plan:")
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 3


def test_an_observe_apply_is_listed_searched_and_reverted_like_any_apply(
    invoke: Invoke, tmp_path: Path
) -> None:
    """applies shows the observe kind; log --apply and revert --apply take its id."""
    _deployed(invoke, tmp_path)
    (tmp_path / "conf1.txt").write_text("one")
    (tmp_path / "conf2.txt").write_text("two")
    assert invoke("refresh", "--accept").exit_code == 0
    assert invoke("discard").exit_code == 0  # the consumer's staged update
    (record,) = [
        a for a in json.loads(invoke("applies", "--json").stdout)["applies"] if a["id"] == 2
    ]
    assert (record["kind"], record["succeeded"], record["message"]) == (
        "observe",
        2,
        "refresh --accept",
    )
    assert "observe" in invoke("applies").stdout
    log = json.loads(invoke("log", "--apply", "2", "--json").stdout)["commits"]
    assert sorted(c["resource"] for c in log) == ["conf1", "conf2"]
    view = json.loads(invoke("revert", "--apply", "2", "--json").stdout)
    assert view["reverts"] == [4, 5] and set(view["changes"]) == {"conf1", "conf2"}
    assert invoke("apply", "--yes").exit_code == 0
    assert (tmp_path / "conf1.txt").read_text() == "hello"
    assert (tmp_path / "conf2.txt").read_text() == "world"
