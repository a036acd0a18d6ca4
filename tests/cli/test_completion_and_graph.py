"""Shell completion (through click's completion environment variables) and graph
--state/--json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrograde.cli.main import cli
from tests.cli.conftest import Invoke
from tests.commands.stacks import V1, V2, write

NAMES = ["haproxy", "keystone1", "node1", "node2"]


def complete(words: str, *, shell: str = "bash", env: dict[str, str] | None = None) -> list[str]:
    """What ``retrograde`` offers for the command line ``words`` (the last word being typed),
    as bash asks for it: ``COMP_WORDS``, ``COMP_CWORD``, ``_RETROGRADE_COMPLETE``."""
    parts = words.split(" ")
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="retrograde",
        env={
            "_RETROGRADE_COMPLETE": f"{shell}_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            **(env or {}),
        },
    )
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """V1 applied (revisions 1-4) and checkpoint ``first`` in ``tmp_path``'s default store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETROGRADE_DB", raising=False)
    write(tmp_path, "v1.yaml", V1)
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", "v1.yaml", "--yes"]).exit_code == 0
    assert runner.invoke(cli, ["checkpoint", "first"]).exit_code == 0
    return tmp_path


def test_verbs_complete(deployed: Path) -> None:
    """`retrograde st` offers the verbs that start so."""
    assert complete("retrograde st") == ["stage", "state"]


def test_resource_arguments_complete_from_committed_state(deployed: Path) -> None:
    """state, blame and log --resource offer the committed resources starting with the word."""
    assert complete("retrograde state ") == NAMES
    assert complete("retrograde blame no") == ["node1", "node2"]
    assert complete("retrograde log --resource k") == ["keystone1"]


def test_revisions_and_checkpoints_complete(deployed: Path) -> None:
    """show offers revisions newest first; rollback and state --at offer checkpoints first."""
    assert complete("retrograde show ") == ["4", "3", "2", "1"]
    assert complete("retrograde rollback ") == ["first", "4", "3", "2", "1"]
    assert complete("retrograde state --at f") == ["first"]


def test_zsh_gets_the_help_of_each_name(deployed: Path) -> None:
    """zsh completion carries each revision's action and resource as its description."""
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="retrograde",
        env={
            "_RETROGRADE_COMPLETE": "zsh_complete",
            "COMP_WORDS": "retrograde show ",
            "COMP_CWORD": "2",
        },
    )
    kind, rev, described = result.stdout.splitlines()[:3]
    assert (kind, rev) == ("plain", "4")
    assert described.startswith("run ") and described[4:] in NAMES


def test_completion_reads_the_store_named_after_the_verb(
    deployed: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """--db after the verb (or before it) picks the store; a missing store offers nothing and
    is not created."""
    missing = tmp_path_factory.mktemp("none") / "missing.db"
    assert complete(f"retrograde state --db {missing} ") == []
    assert complete(f"retrograde --db {missing} state ") == []
    assert not missing.exists()
    store = deployed / ".retrograde" / "state.db"
    assert complete(f"retrograde state --db {store} n") == ["node1", "node2"]


def test_discard_completes_staged_resources(deployed: Path) -> None:
    """discard offers the resources with a staged change, not every committed one."""
    write(deployed, "v2.yaml", V2)
    assert CliRunner().invoke(cli, ["stage", "v2.yaml"]).exit_code == 0
    assert complete("retrograde discard ") == ["haproxy", "keystone1", "keystone2"]


def test_graph_state_draws_committed_resources_and_connections(
    invoke: Invoke, tmp_path: Path
) -> None:
    """graph --state: a box per committed resource, an arrow per connection, with its input."""
    write(tmp_path, "v1.yaml", V1)
    invoke("apply", "v1.yaml", "--yes")
    dot = invoke("graph", "--state").stdout
    assert dot.startswith("digraph state {")
    assert '"keystone1" -> "haproxy" [label="backends"];' in dot
    for name in NAMES:
        assert f'"{name}" [label=' in dot
    assert invoke("graph", "--state", "--target", "haproxy").exit_code == 2


def test_graph_json_gives_nodes_and_edges_of_state_and_plan(invoke: Invoke, tmp_path: Path) -> None:
    """graph --state --json: every resource with type and tags, edges producer -> consumer;
    graph --json: the plan's actions and their order, with the connecting input."""
    write(tmp_path, "v1.yaml", V1)
    write(tmp_path, "v2.yaml", V2)
    invoke("apply", "v1.yaml", "--yes")
    state = json.loads(invoke("graph", "--state", "--json").stdout)
    assert [n["id"] for n in state["nodes"]] == NAMES
    assert all("action" not in n and {"type", "tags"} <= set(n) for n in state["nodes"])
    assert {"from": "keystone1", "to": "haproxy", "input": "backends"} in state["edges"]
    invoke("stage", "v2.yaml")
    planned = json.loads(invoke("graph", "--json").stdout)
    assert [(n["id"], n["action"]) for n in planned["nodes"]] == [
        ("keystone2", "run"),
        ("haproxy", "update"),
        ("keystone1", "remove"),
    ]
    assert planned["edges"] == [
        {"from": "keystone2", "to": "haproxy", "input": "backends"},
        {"from": "haproxy", "to": "keystone1", "input": "backends"},
    ]
