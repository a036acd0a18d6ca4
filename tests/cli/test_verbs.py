"""The command line: every verb, its JSON shape, its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.commands.stacks import V1, V2, write


def test_tour_stage_diff_plan_apply_log(invoke: Invoke, tmp_path: Path) -> None:
    """The README tour works end to end and each --json output has its documented shape."""
    write(tmp_path, "v1.yaml", V1)
    assert invoke("stage", "v1.yaml").exit_code == 0
    diff = json.loads(invoke("diff", "--json").output)
    assert diff["changes"]["node1"] == {
        "action": "run",
        "diff": {"ip": {"from": None, "to": "10.20.0.2"}},
    }
    plan = json.loads(invoke("plan", "--json").output)
    assert [a["resource"] for a in plan["actions"]] == ["node1", "keystone1", "haproxy", "node2"]
    applied = json.loads(invoke("apply", "--yes", "--json", "-m", "first").output)
    assert applied["status"] == "succeeded"
    assert applied["commits"] == [1, 2, 3, 4]
    assert (applied["failed"], applied["skipped"]) == ([], [])
    log = json.loads(invoke("log", "--json").output)["commits"]
    assert [c["rev"] for c in log] == [4, 3, 2, 1]
    assert set(log[0]) >= {
        "rev", "apply_id", "resource", "action", "diff", "reverse", "connections", "type",
        "version", "principal", "timestamp", "message", "reverts", "hash",
    }  # fmt: skip
    assert log[0]["principal"] == "tester"


def test_secrets_are_masked_in_every_output(invoke: Invoke, tmp_path: Path) -> None:
    """A secret input shows as *** in diff, log, show and state, human and JSON."""
    write(tmp_path, "v1.yaml", V1)
    invoke("stage", "v1.yaml")
    outputs = [invoke("diff", "--json").output, invoke("diff").output]
    invoke("apply", "--yes")
    rev = json.loads(invoke("log", "--json", "--resource", "keystone1").output)["commits"][0]["rev"]
    for args in (["log"], ["show", str(rev)], ["state"], ["state", "keystone1"]):
        outputs += [invoke(*args).output, invoke(*args, "--json").output]
    for output in outputs:
        assert "s3cret" not in output
    assert (
        json.loads(invoke("state", "keystone1", "--json").output)["resources"]["keystone1"][
            "inputs"
        ]["password"]
        == "***"
    )
    assert (tmp_path / "keystone1.run.json").read_text().count("s3cret") == 2


def test_state_shows_connections_and_tags(invoke: Invoke, tmp_path: Path) -> None:
    """state --json gives resolved inputs, their connections and tags."""
    write(tmp_path, "v1.yaml", V1)
    invoke("apply", "v1.yaml", "--yes")
    view = json.loads(invoke("state", "haproxy", "--json").output)
    assert view["rev"] == 4
    assert view["resources"] == {
        "haproxy": {
            "type": "lb",
            "version": 1,
            "inputs": {"backends": ["10.20.0.2"]},
            "connections": {"backends": ["keystone1.ip"]},
            "tags": {"node": "node2"},
        }
    }


def test_log_filters_and_show(invoke: Invoke, tmp_path: Path) -> None:
    """log --resource/--apply/--limit select commits; show REV renders one commit."""
    invoke("apply", write(tmp_path, "v1.yaml", V1).name, "--yes", "-m", "first")
    invoke("apply", write(tmp_path, "v2.yaml", V2).name, "--yes", "-m", "move")
    by_resource = json.loads(invoke("log", "--json", "-r", "haproxy").output)["commits"]
    assert [(c["action"], c["message"]) for c in by_resource] == [
        ("update", "move"),
        ("run", "first"),
    ]
    second = json.loads(invoke("log", "--json", "--apply", "2").output)["commits"]
    assert [c["resource"] for c in second] == ["keystone1", "haproxy", "keystone2"]
    assert len(json.loads(invoke("log", "--json", "--limit", "2").output)["commits"]) == 2
    shown = invoke("show", "6")
    assert shown.exit_code == 0
    assert "haproxy" in shown.output and "10.20.0.3" in shown.output


def test_graph_prints_dot(invoke: Invoke, tmp_path: Path) -> None:
    """graph prints the staged plan as a DOT digraph with its edges."""
    invoke("apply", write(tmp_path, "v1.yaml", V1).name, "--yes")
    invoke("stage", write(tmp_path, "v2.yaml", V2).name)
    dot = invoke("graph").output
    assert dot.startswith("digraph")
    assert '"keystone2" -> "haproxy"' in dot
    assert '"haproxy" -> "keystone1"' in dot


def test_discard_named_and_all(invoke: Invoke, tmp_path: Path) -> None:
    """discard R drops one staged change; discard with no names drops the rest."""
    invoke("stage", write(tmp_path, "v1.yaml", V1).name)
    assert json.loads(invoke("discard", "node2", "--json").output) == {"discarded": ["node2"]}
    assert "node2" not in json.loads(invoke("diff", "--json").output)["changes"]
    unknown = invoke("discard", "nope")
    assert unknown.exit_code == 1
    assert "nope" in unknown.output
    invoke("discard")
    assert json.loads(invoke("diff", "--json").output) == {"changes": {}}


def test_apply_refuses_without_confirmation_when_not_interactive(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Without --yes and without a terminal, apply refuses with a usage error (exit 2)."""
    invoke("stage", write(tmp_path, "v1.yaml", V1).name)
    result = invoke("apply")
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert json.loads(invoke("log", "--json").output)["commits"] == []


def test_failed_apply_exits_one(invoke: Invoke, tmp_path: Path) -> None:
    """An apply with a failing action exits 1 and names the failure."""
    failing = V1.replace("run: {shell:", "run: {shell: 'exit 7', x:", 1)
    failing = V1.replace(
        "  lb:\n    version: 1\n    inputs:\n      backends: {type: list}\n    actions: *actions",
        "  lb:\n    version: 1\n    inputs:\n      backends: {type: list}\n"
        "    actions:\n      run: {shell: 'echo lb-broke >&2; exit 7'}",
    )
    assert failing != V1
    result = invoke("apply", write(tmp_path, "v1.yaml", failing).name, "--yes")
    assert result.exit_code == 1
    assert "haproxy" in result.output and "lb-broke" in result.output


def test_nothing_staged(invoke: Invoke) -> None:
    """On an empty store, diff, plan and apply say there is nothing to do and exit 0."""
    assert "Nothing staged" in invoke("diff").output
    assert json.loads(invoke("plan", "--json").output) == {"actions": []}
    applied = invoke("apply", "--yes", "--json")
    assert applied.exit_code == 0
    assert json.loads(applied.output)["apply_id"] is None


def test_unknown_revision_and_resource(invoke: Invoke) -> None:
    """show of an unknown revision and state of an unknown resource are one-line errors."""
    for args in (["show", "42"], ["state", "ghost"]):
        result = invoke(*args)
        assert result.exit_code == 1
        assert result.output.startswith("error:")
        assert len(result.output.strip().splitlines()) == 1
