"""`state --stack` never prints a secret as something that stages: connections stay
connections, secret values become secret vars without a value, and `stage` refuses
masked secrets."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import Invoke

STACK = """
types:
  db:
    version: 1
    inputs:
      password: {type: string, secret: true}
      replicas: {type: list, secret: true, default: []}
    actions: {run: {shell: 'true'}, update: {shell: 'true'}, remove: {shell: 'true'}}
  app:
    version: 1
    inputs:
      password: {type: string, secret: true}
      keys: {type: list, secret: true}
    actions: {run: {shell: 'true'}, update: {shell: 'true'}, remove: {shell: 'true'}}
resources:
  db: {type: db, inputs: {password: hunter2}}
  app: {type: app, inputs: {password: "${db.password}", keys: ["${db.password}", k2]}}
"""


def _applied(invoke: Invoke, tmp_path: Path) -> str:
    (tmp_path / "stack.yaml").write_text(STACK)
    applied = invoke("apply", "stack.yaml", "--yes")
    assert applied.exit_code == 0, applied.output
    printed = invoke("state", "--stack")
    assert printed.exit_code == 0, printed.output
    return printed.output


def test_a_connection_to_a_secret_prints_as_a_connection(invoke: Invoke, tmp_path: Path) -> None:
    """app.password: ${db.password} stays a connection; list items keep theirs too, and each
    secret literal becomes a secret var declared without a value."""
    document = yaml.safe_load(_applied(invoke, tmp_path))
    app = document["resources"]["app"]["inputs"]
    assert app == {"password": "${db.password}", "keys": ["${db.password}", "${var.app_keys_1}"]}
    assert document["resources"]["db"]["inputs"] == {"password": "${var.db_password}"}
    assert document["types"]["db"]["inputs"]["replicas"]["default"] == "${var.db_replicas_default}"
    assert document["vars"] == {
        "db_replicas_default": {"type": "list", "secret": True},
        "app_keys_1": {"type": "any", "secret": True},
        "db_password": {"type": "string", "secret": True},
    }


def test_the_printed_stack_needs_its_secret_vars(invoke: Invoke, tmp_path: Path) -> None:
    """Staging the printed stack without the vars is refused naming the first one used, and
    stages nothing; with them, it stages nothing because it matches committed state."""
    text = _applied(invoke, tmp_path)
    assert "hunter2" not in text and "***" not in text and "k2" not in text
    (tmp_path / "back.yaml").write_text(text)
    refused = invoke("stage", "back.yaml")
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1
    assert "var 'db_replicas_default' has no value" in refused.output
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}
    (tmp_path / "secrets.yaml").write_text("db_replicas_default: []\napp_keys_1: k2\n")
    given = ("--var-file", "secrets.yaml", "--var", "db_password=hunter2")
    staged = invoke("stage", "back.yaml", *given, "--json")
    assert json.loads(staged.output)["changes"] == {}, staged.output


def test_stage_refuses_the_mask_for_a_secret_input(invoke: Invoke, tmp_path: Path) -> None:
    """A secret input given as *** (copied from some output) is refused naming resource.input."""
    _applied(invoke, tmp_path)
    (tmp_path / "masked.yaml").write_text(STACK.replace("password: hunter2", "password: '***'"))
    refused = invoke("stage", "masked.yaml")
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "db.password" in refused.output
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}


def test_stage_refuses_the_mask_given_through_a_var(invoke: Invoke, tmp_path: Path) -> None:
    """A secret var whose value is *** lands in a secret input and is refused like ***."""
    _applied(invoke, tmp_path)
    text = _applied(invoke, tmp_path)
    (tmp_path / "back.yaml").write_text(text)
    (tmp_path / "secrets.yaml").write_text("db_replicas_default: []\napp_keys_1: k2\n")
    given = ("--var-file", "secrets.yaml", "--var", "db_password=***")
    refused = invoke("stage", "back.yaml", *given)
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "secret input db.password" in refused.output
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}
