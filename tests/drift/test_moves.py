"""Renames on both stores: mv and moved:, history followed, no handler run, reverts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Invoke
from tests.drift.stacks import drift_stack


def _deployed(invoke: Invoke, tmp_path: Path) -> Path:
    stack = drift_stack(tmp_path)
    assert invoke("apply", "stack.yaml", "--yes", "-m", "deploy").exit_code == 0
    return stack


def _state(invoke: Invoke) -> dict:
    return json.loads(invoke("state", "--json").stdout)["resources"]


def _renamed(stack: Path, old: str, new: str, *, moved: bool = True) -> None:
    text = (
        stack.read_text().replace(f"  {old}:\n", f"  {new}:\n").replace(f"${{{old}.", f"${{{new}.")
    )
    if moved:
        text += f"moved:\n  - {{from: {old}, to: {new}}}\n"
    stack.write_text(text)


def test_mv_is_one_move_commit_and_runs_no_handler(invoke: Invoke, tmp_path: Path) -> None:
    """mv writes one move commit (a move apply); the handlers, which log every run, never run."""
    _deployed(invoke, tmp_path)
    ran = (tmp_path / "actions.log").read_text()
    result = invoke("mv", "conf1", "main", "--json")
    assert result.exit_code == 0
    commit = json.loads(result.stdout)
    assert (commit["rev"], commit["action"], commit["resource"], commit["from"]) == (
        4,
        "move",
        "main",
        "conf1",
    )
    assert commit["diff"] == {}
    assert (tmp_path / "actions.log").read_text() == ran
    state = _state(invoke)
    assert "conf1" not in state and state["main"]["inputs"]["content"] == "hello"
    assert state["user1"]["connections"] == {"greeting": "main.content"}
    assert json.loads(invoke("applies", "--json").stdout)["applies"][0]["kind"] == "move"
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_log_and_blame_follow_the_resource_across_the_rename(
    invoke: Invoke, tmp_path: Path
) -> None:
    """log --resource NEW lists OLD's commits below the move; blame NEW names OLD's run."""
    stack = _deployed(invoke, tmp_path)
    assert invoke("mv", "conf1", "main").exit_code == 0
    drift_stack(tmp_path, content="again")
    _renamed(stack, "conf1", "main", moved=False)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    first = json.loads(invoke("log", "--resource", "conf1", "--json").stdout)["commits"]
    assert [c["action"] for c in first] == ["run"]
    run = first[0]["rev"]
    log = json.loads(invoke("log", "--resource", "main", "--json").stdout)["commits"]
    assert [(c["rev"], c["action"], c["resource"]) for c in log] == [
        (5, "update", "main"),
        (4, "move", "main"),
        (run, "run", "conf1"),
    ]
    page = json.loads(invoke("log", "--resource", "main", "--limit", "2", "--json").stdout)
    assert [c["rev"] for c in page["commits"]] == [5, 4]
    blame = json.loads(invoke("blame", "main", "--json").stdout)["inputs"]
    assert blame["content"]["rev"] == 5 and blame["path"]["rev"] == run


def test_moved_entries_in_a_stack_file_rename_then_stage_the_rest(
    invoke: Invoke, tmp_path: Path
) -> None:
    """moved: renames first (no handler); staging the same file again is a no-op."""
    stack = _deployed(invoke, tmp_path)
    ran = (tmp_path / "actions.log").read_text()
    _renamed(stack, "conf1", "main")
    result = invoke("stage", "stack.yaml", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["changes"] == {}
    assert (tmp_path / "actions.log").read_text() == ran
    commit = json.loads(invoke("show", "4", "--json").stdout)
    assert (commit["action"], commit["resource"], commit["from"]) == ("move", "main", "conf1")
    assert invoke("stage", "stack.yaml").exit_code == 0
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 4  # done already
    assert _state(invoke)["user1"]["connections"] == {"greeting": "main.content"}


def test_moved_entries_with_both_or_neither_name_are_refused(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Both names committed, or neither: one line naming both, nothing written."""
    stack = _deployed(invoke, tmp_path)
    original = stack.read_text()
    stack.write_text(original + "moved:\n  - {from: conf1, to: conf2}\n")
    both = invoke("stage", "stack.yaml")
    assert both.exit_code == 1
    assert both.stderr.strip() == "error: moved: cannot move 'conf1' to 'conf2': both exist"
    stack.write_text(original + "moved:\n  - {from: ghost, to: phantom}\n")
    neither = invoke("stage", "stack.yaml")
    assert (
        neither.stderr.strip() == "error: moved: cannot move 'ghost' to 'phantom': neither exists"
    )
    stack.write_text(original + "moved:\n  - {from: conf1}\n")
    shape = invoke("stage", "stack.yaml")
    assert shape.exit_code == 1 and "moved entry 1 needs to: a resource name" in shape.stderr
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 3


def test_mv_refusals_name_what_is_wrong(invoke: Invoke, tmp_path: Path) -> None:
    """An absent OLD, a taken NEW and staged changes are refused in one line each."""
    _deployed(invoke, tmp_path)
    assert "'ghost' does not exist" in invoke("mv", "ghost", "x").stderr
    assert "'conf2' already exists" in invoke("mv", "conf1", "conf2").stderr
    drift_stack(tmp_path, other="staged")
    assert invoke("stage", "stack.yaml").exit_code == 0
    staged = invoke("mv", "conf1", "main")
    assert staged.exit_code == 1 and "change(s) are staged" in staged.stderr


def _head(invoke: Invoke) -> int:
    return json.loads(invoke("log", "--limit", "1", "--json").stdout)["commits"][0]["rev"]


STAGED_MOVE = {"resource": "conf1", "action": "move", "from": "main"}


def test_reverting_a_move_stages_the_move_back_before_any_value_change(
    invoke: Invoke, tmp_path: Path
) -> None:
    """revert of the move and a later update stages both; committed state stays as it was
    until apply, which commits the move back (no handler) and then runs the updates."""
    stack = _deployed(invoke, tmp_path)
    run = json.loads(invoke("log", "--resource", "conf1", "--json").stdout)["commits"][0]["rev"]
    assert invoke("mv", "conf1", "main").exit_code == 0
    drift_stack(tmp_path, content="later")
    _renamed(stack, "conf1", "main", moved=False)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    assert (tmp_path / "conf1.txt").read_text() == "later"
    head, before = _head(invoke), _state(invoke)
    view = json.loads(invoke("revert", "4", "5", "--json").stdout)
    assert view["staged"] is True and view["moves"] == [{"from": "main", "to": "conf1"}]
    assert set(view["changes"]) == {"conf1", "user1"}
    assert view["changes"]["conf1"]["diff"] == {"content": {"from": "later", "to": "hello"}}
    assert view["plan"]["moves"] == [STAGED_MOVE]
    assert (_head(invoke), _state(invoke)) == (head, before)  # nothing committed yet
    diff = json.loads(invoke("diff", "--json").stdout)
    assert diff["moves"] == [STAGED_MOVE] and set(diff["changes"]) == {"conf1", "user1"}
    plan = json.loads(invoke("plan", "--json").stdout)
    assert plan["moves"] == [STAGED_MOVE]
    assert [(a["resource"], a["action"]) for a in plan["actions"]] == [
        ("conf1", "update"),
        ("user1", "update"),
    ]
    text = invoke("plan").stdout
    assert "main → conf1" in text and "1 to move" in text
    ran = (tmp_path / "actions.log").read_text()
    report = json.loads(invoke("apply", "--yes", "--json").stdout)
    assert report["status"] == "succeeded" and report["commits"] == [head + 1, head + 2, head + 3]
    move = json.loads(invoke("show", str(head + 1), "--json").stdout)
    assert (move["action"], move["resource"], move["from"]) == ("move", "conf1", "main")
    assert move["apply_id"] == report["apply_id"]
    assert (move["message"], move["reverts"]) == ("move back, undoing rev 4", [4])
    applies = json.loads(invoke("applies", "--json").stdout)["applies"]
    assert (applies[0]["id"], applies[0]["kind"]) == (report["apply_id"], "apply")
    assert (tmp_path / "actions.log").read_text() == ran + "update\nupdate-user\n"
    assert (tmp_path / "conf1.txt").read_text() == "hello"
    state = _state(invoke)
    assert "main" not in state and state["user1"]["connections"] == {"greeting": "conf1.content"}
    log = json.loads(invoke("log", "--resource", "conf1", "--json").stdout)["commits"]
    assert [(c["rev"], c["action"], c["resource"]) for c in log] == [
        (head + 2, "update", "conf1"),
        (head + 1, "move", "conf1"),
        (5, "update", "main"),
        (4, "move", "main"),
        (run, "run", "conf1"),
    ]
    assert json.loads(invoke("blame", "conf1", "--json").stdout)["inputs"]["content"]["rev"] == (
        head + 2
    )
    assert json.loads(invoke("diff", "--json").stdout) == {"changes": {}}
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_reverting_only_a_move_stages_it_and_apply_runs_no_handler(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A dry run shows the move back and writes nothing; the revert stages it alone; apply
    commits it and no handler writes a file."""
    _deployed(invoke, tmp_path)
    assert invoke("mv", "conf1", "main").exit_code == 0
    head = _head(invoke)
    dry = json.loads(invoke("revert", "4", "--dry-run", "--json").stdout)
    assert dry["staged"] is False and dry["moves"] == [{"from": "main", "to": "conf1"}]
    assert json.loads(invoke("diff", "--json").stdout) == {"changes": {}}
    shown = invoke("revert", "4")
    assert shown.exit_code == 0 and "staged the rename of main back to conf1" in shown.stdout
    assert _head(invoke) == head and "main" in _state(invoke)
    assert "mv" not in (tmp_path / "actions.log").read_text()
    refused = invoke("mv", "main", "other")
    assert refused.exit_code == 1 and "1 change(s) are staged" in refused.stderr
    (tmp_path / "conf1.txt").unlink()
    ran = (tmp_path / "actions.log").read_text()
    report = json.loads(invoke("apply", "--yes", "-m", "put it back", "--json").stdout)
    assert report["commits"] == [head + 1] and report["failed"] == []
    assert json.loads(invoke("show", str(head + 1), "--json").stdout)["message"] == "put it back"
    assert not (tmp_path / "conf1.txt").exists()  # no handler wrote the file again
    assert (tmp_path / "actions.log").read_text() == ran
    state = _state(invoke)
    assert "main" not in state and state["conf1"]["inputs"]["content"] == "hello"
    assert state["user1"]["connections"] == {"greeting": "conf1.content"}
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_discard_drops_a_staged_move_and_only_whole(invoke: Invoke, tmp_path: Path) -> None:
    """Naming resources is refused while moves are staged; discarding all drops them."""
    _deployed(invoke, tmp_path)
    assert invoke("mv", "conf1", "main").exit_code == 0
    head = _head(invoke)
    assert invoke("revert", "4").exit_code == 0
    named = invoke("discard", "conf1")
    assert named.exit_code == 1 and "renames are staged" in named.stderr
    dropped = json.loads(invoke("discard", "--json").stdout)
    assert dropped == {"discarded": ["conf1"]}
    assert json.loads(invoke("diff", "--json").stdout) == {"changes": {}}
    assert json.loads(invoke("plan", "--json").stdout) == {"actions": []}
    assert _head(invoke) == head and "main" in _state(invoke)
    assert json.loads(invoke("apply", "--yes", "--json").stdout)["apply_id"] is None


def test_rollback_across_a_move_and_state_at_replay_it(invoke: Invoke, tmp_path: Path) -> None:
    """state --at sees both names in their time; rollback to before the move stages the
    move back, which apply commits."""
    _deployed(invoke, tmp_path)
    invoke("checkpoint", "before")
    assert invoke("mv", "conf1", "main").exit_code == 0
    at = json.loads(invoke("state", "--at", "before", "--json").stdout)["resources"]
    assert "conf1" in at and at["user1"]["connections"] == {"greeting": "conf1.content"}
    now = json.loads(invoke("state", "--at", "4", "--json").stdout)["resources"]
    assert "main" in now and now["user1"]["connections"] == {"greeting": "main.content"}
    view = json.loads(invoke("rollback", "before", "--json").stdout)
    assert view["moves"] == [{"from": "main", "to": "conf1"}] and view["changes"] == {}
    assert "main" in _state(invoke) and _head(invoke) == 4
    assert invoke("apply", "--yes").exit_code == 0
    assert "conf1" in _state(invoke) and _head(invoke) == 5
    back = json.loads(invoke("show", "5", "--json").stdout)
    assert (back["message"], back["reverts"]) == ("move back, undoing rev 4", [4])
    assert json.loads(invoke("applies", "--json").stdout)["applies"][0]["message"] == ""


def test_rollback_across_a_move_and_a_value_change(invoke: Invoke, tmp_path: Path) -> None:
    """The move back and the values back are staged together and applied in that order; a
    saved plan carries the move too."""
    stack = _deployed(invoke, tmp_path)
    invoke("checkpoint", "before")
    assert invoke("mv", "conf1", "main").exit_code == 0
    drift_stack(tmp_path, content="later")
    _renamed(stack, "conf1", "main", moved=False)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    head, before = _head(invoke), _state(invoke)
    assert invoke("rollback", "before", "--dry-run").exit_code == 0
    assert json.loads(invoke("diff", "--json").stdout) == {"changes": {}}
    view = json.loads(invoke("rollback", "before", "--json").stdout)
    assert view["plan"]["moves"] == [STAGED_MOVE]
    assert view["changes"]["conf1"]["diff"] == {"content": {"from": "later", "to": "hello"}}
    assert (_head(invoke), _state(invoke)) == (head, before)
    assert invoke("plan", "-o", "back.plan").exit_code == 0
    report = json.loads(invoke("apply", "back.plan", "--yes", "--json").stdout)
    assert report["status"] == "succeeded" and len(report["commits"]) == 3
    first = json.loads(invoke("show", str(head + 1), "--json").stdout)
    assert (first["action"], first["resource"], first["from"]) == ("move", "conf1", "main")
    assert (tmp_path / "conf1.txt").read_text() == "hello"
    state = _state(invoke)
    assert "main" not in state and state["conf1"]["inputs"]["content"] == "hello"
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_an_export_with_a_move_imports_and_verifies(invoke: Invoke, tmp_path: Path) -> None:
    """A move commit's from survives export and import; the import replays it exactly."""
    _deployed(invoke, tmp_path)
    assert invoke("mv", "conf1", "main").exit_code == 0
    assert invoke("export", "-o", "log.jsonl").exit_code == 0
    records = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["from"] for r in records if r["kind"] == "commit" and r["action"] == "move"] == [
        "conf1"
    ]
    assert [r["apply_kind"] for r in records if r["kind"] == "apply"] == ["apply", "move"]
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    result = invoke("--db", target, "import-log", "log.jsonl", "--json")
    assert result.exit_code == 0, result.output
    copied = json.loads(invoke("--db", target, "state", "--json").stdout)["resources"]
    assert copied["user1"]["connections"] == {"greeting": "main.content"}


def test_import_is_kept_as_a_deprecated_name_of_import_log(invoke: Invoke, tmp_path: Path) -> None:
    """import still imports, with a one-line note on stderr naming import-log."""
    _deployed(invoke, tmp_path)
    assert invoke("export", "-o", "log.jsonl").exit_code == 0
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    result = invoke("--db", target, "import", "log.jsonl")
    assert result.exit_code == 0
    assert result.stderr == "note: `import` is deprecated; use `retrograde import-log`\n"
    assert "imported 3 commit(s)" in result.stdout


def test_staged_moves_come_with_any_selection_and_refuse_a_partial_stage(
    invoke: Invoke, tmp_path: Path
) -> None:
    """plan --target lists the staged moves too; stage --target would mix names, so it is
    refused; staging the whole file replaces them."""
    stack = _deployed(invoke, tmp_path)
    invoke("checkpoint", "before")
    assert invoke("mv", "conf1", "main").exit_code == 0
    drift_stack(tmp_path, content="later")
    _renamed(stack, "conf1", "main", moved=False)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    assert invoke("rollback", "before").exit_code == 0
    targeted = json.loads(invoke("plan", "--target", "user1", "--json").stdout)
    assert targeted["moves"] == [STAGED_MOVE]
    assert [a["resource"] for a in targeted["actions"]] == ["conf1", "user1"]
    refused = invoke("stage", "stack.yaml", "--target", "user1")
    assert refused.exit_code == 1 and "renames are staged" in refused.stderr
    assert invoke("stage", "stack.yaml").exit_code == 0
    assert json.loads(invoke("diff", "--json").stdout) == {"changes": {}}


def _log(invoke: Invoke, *args: str) -> dict:
    return json.loads(invoke("log", "--resource", "conf1", *args, "--json").stdout)


def test_log_follows_a_name_that_left_and_came_back_newest_first(
    invoke: Invoke, tmp_path: Path
) -> None:
    """conf1 moves to main, an unrelated conf1 comes and moves away, main moves back: log lists
    each name only while it was the resource's, newest first, on every page; blame too."""
    stack = _deployed(invoke, tmp_path)
    run = _log(invoke)["commits"][0]["rev"]
    assert invoke("mv", "conf1", "main").exit_code == 0
    drift_stack(tmp_path, content="later")
    _renamed(stack, "conf1", "main", moved=False)
    stranger = (
        f"  conf1:\n    type: conf\n"
        f"    inputs: {{path: {tmp_path / 'other.txt'}, content: stranger}}\n"
    )
    stack.write_text(stack.read_text() + stranger)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    unrelated = [(c["rev"], c["action"]) for c in _log(invoke)["commits"]]
    assert [action for _, action in unrelated] == ["run"]  # not the run of main, once conf1
    assert invoke("mv", "conf1", "stranger").exit_code == 0
    assert invoke("mv", "main", "conf1").exit_code == 0
    drift_stack(tmp_path, content="last")
    stack.write_text(stack.read_text() + stranger.replace("conf1:", "stranger:"))
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    everything = json.loads(invoke("log", "--json").stdout)["commits"]
    of = {c["rev"]: (c["action"], c["resource"]) for c in everything}
    expected = [
        rev
        for rev, (action, name) in sorted(of.items(), reverse=True)
        if name == "main" or (name == "conf1" and (rev, action) not in unrelated)
    ]
    assert [of[rev] for rev in expected] == [
        ("update", "conf1"),
        ("move", "conf1"),
        ("update", "main"),
        ("move", "main"),
        ("run", "conf1"),
    ]
    assert expected[-1] == run
    assert [c["rev"] for c in _log(invoke)["commits"]] == expected
    for limit in range(1, len(expected) + 1):
        pages: list[int] = []
        cursor: list[str] = []
        while True:
            page = _log(invoke, "--limit", str(limit), *cursor)
            pages.extend(c["rev"] for c in page["commits"])
            if page["next"] is None:
                break
            cursor = ["--before", str(page["next"])]
        assert pages == expected, limit
    assert [c["rev"] for c in _log(invoke, "--rev-to", str(expected[2]))["commits"]] == (
        expected[2:]
    )
    blame = json.loads(invoke("blame", "conf1", "--json").stdout)["inputs"]
    assert blame["content"]["rev"] == expected[0] and blame["path"]["rev"] == run
