"""adopt on both stores: resources that already exist become committed without a handler run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Invoke
from tests.drift.stacks import drift_stack


def _existing(tmp_path: Path) -> Path:
    """The stack's files as someone made them by hand, before retrograde knew them."""
    stack = drift_stack(tmp_path)
    (tmp_path / "conf1.txt").write_text("hello")
    (tmp_path / "conf2.txt").write_text("on disk")
    (tmp_path / "user1.txt").write_text("hello")
    return stack


def test_adopt_then_stage_is_a_no_op(invoke: Invoke, tmp_path: Path) -> None:
    """adopt records every resource as committed, runs nothing; stage then has nothing to do."""
    _existing(tmp_path)
    result = invoke("adopt", "stack.yaml", "conf1", "conf2", "user1", "--json")
    assert result.exit_code == 0
    commits = json.loads(result.stdout)["commits"]
    assert [(c["action"], c["resource"]) for c in commits] == [
        ("adopt", "conf1"),
        ("adopt", "conf2"),
        ("adopt", "user1"),
    ]
    assert commits[0]["diff"]["content"] == {"from": None, "to": "hello"}
    assert commits[0]["diff"]["token"] == {"from": None, "to": "***"}
    assert not (tmp_path / "actions.log").exists()  # no handler ran
    assert (tmp_path / "conf2.txt").read_text() == "on disk"
    staged = json.loads(invoke("stage", "stack.yaml", "--json").stdout)
    assert staged["changes"] == {}
    assert json.loads(invoke("applies", "--json").stdout)["applies"][0]["kind"] == "adopt"
    state = json.loads(invoke("state", "--json").stdout)["resources"]
    assert state["user1"]["connections"] == {"greeting": "conf1.content"}
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_adopt_read_takes_what_the_read_reports(invoke: Invoke, tmp_path: Path) -> None:
    """--read commits the observed content; stage then stages the way to the file's value."""
    _existing(tmp_path)
    assert invoke("adopt", "stack.yaml", "conf2", "--read").exit_code == 0
    state = json.loads(invoke("state", "--json").stdout)["resources"]
    assert state["conf2"]["inputs"]["content"] == "on disk"
    assert invoke("refresh", "conf2").exit_code == 0
    staged = json.loads(invoke("stage", "stack.yaml", "--json").stdout)["changes"]
    assert staged["conf2"]["diff"] == {"content": {"from": "on disk", "to": "world"}}
    assert staged["conf1"]["action"] == "run"


def test_adopt_refusals_write_nothing(invoke: Invoke, tmp_path: Path) -> None:
    """An unknown name, a dangling connection, a committed resource or a failed read: refused."""
    _existing(tmp_path)
    unknown = invoke("adopt", "stack.yaml", "ghost")
    assert unknown.exit_code == 1 and "ghost" in unknown.stderr
    dangling = invoke("adopt", "stack.yaml", "user1")
    assert dangling.stderr.strip() == (
        "error: cannot adopt 'user1': it is connected to 'conf1', which is neither "
        "committed nor adopted with it"
    )
    (tmp_path / "conf1.txt").unlink()
    failed = invoke("adopt", "stack.yaml", "conf1", "--read")
    assert failed.exit_code == 1 and "cannot adopt 'conf1': read failed (exit 1)" in failed.stderr
    assert json.loads(invoke("log", "--json").stdout)["commits"] == []
    (tmp_path / "conf1.txt").write_text("hello")
    assert invoke("adopt", "stack.yaml", "conf1").exit_code == 0
    again = invoke("adopt", "stack.yaml", "conf1")
    assert again.stderr.strip() == "error: cannot adopt 'conf1': it is committed already"


VARS_STACK = """
vars:
  greeting: {type: string}
types:
  conf:
    version: 1
    inputs:
      path: {type: string}
      content: {type: string}
    actions:
      run: {shell: "printf %s {{ inputs.content }} > {{ inputs.path }} && echo run >> actions.log"}
resources:
  conf1: {type: conf, inputs: {path: conf1.txt, content: "${var.greeting}"}}
"""


def test_adopt_takes_the_stacks_vars_like_stage(invoke: Invoke, tmp_path: Path) -> None:
    """--var sets the adopted values, a missing var is one error and adopts nothing."""
    (tmp_path / "vars.yaml").write_text(VARS_STACK)
    (tmp_path / "conf1.txt").write_text("bonjour")
    missing = invoke("adopt", "vars.yaml", "conf1")
    assert missing.exit_code == 1 and "greeting" in missing.output
    assert json.loads(invoke("state", "--json").stdout)["resources"] == {}
    adopted = invoke("adopt", "vars.yaml", "conf1", "--var", "greeting=bonjour", "--json")
    assert adopted.exit_code == 0, adopted.output
    [commit] = json.loads(adopted.stdout)["commits"]
    assert commit["diff"]["content"] == {"from": None, "to": "bonjour"}
    assert not (tmp_path / "actions.log").exists()
    again = invoke("stage", "vars.yaml", "--var", "greeting=bonjour", "--json")
    assert json.loads(again.stdout)["changes"] == {}
