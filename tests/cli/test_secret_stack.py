"""`state --stack` never prints a secret as something that stages: connections stay
connections, secret values become a placeholder, and `stage` refuses masked secrets."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from retrograde.model.secrets import SECRET_PLACEHOLDER

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
    """app.password: ${db.password} stays a connection; list items keep theirs too."""
    document = yaml.safe_load(_applied(invoke, tmp_path))
    app = document["resources"]["app"]["inputs"]
    assert app == {"password": "${db.password}", "keys": ["${db.password}", SECRET_PLACEHOLDER]}
    assert document["resources"]["db"]["inputs"] == {"password": SECRET_PLACEHOLDER}


def test_the_printed_stack_is_refused_until_secrets_are_filled_in(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Staging the printed stack as is is refused naming the secret default, then app.keys,
    and stages nothing; filled in, it stages nothing because it matches committed state."""
    text = _applied(invoke, tmp_path)
    assert "hunter2" not in text and "'***'" not in text
    document = yaml.safe_load(text)
    for fill, named in (
        (lambda: None, "default of secret input db.replicas"),
        (lambda: document["types"]["db"]["inputs"]["replicas"].update(default=[]), "app.keys"),
    ):
        fill()
        (tmp_path / "back.yaml").write_text(yaml.safe_dump(document))
        refused = invoke("stage", "back.yaml")
        assert refused.exit_code == 1
        assert refused.output.count("\n") == 1 and named in refused.output
        assert json.loads(invoke("diff", "--json").output)["changes"] == {}
    document["resources"]["db"]["inputs"]["password"] = "hunter2"
    document["resources"]["app"]["inputs"]["keys"][1] = "k2"
    (tmp_path / "back.yaml").write_text(yaml.safe_dump(document))
    assert json.loads(invoke("stage", "back.yaml", "--json").output)["changes"] == {}


def test_stage_refuses_the_mask_for_a_secret_input(invoke: Invoke, tmp_path: Path) -> None:
    """A secret input given as *** (copied from some output) is refused naming resource.input."""
    _applied(invoke, tmp_path)
    (tmp_path / "masked.yaml").write_text(STACK.replace("password: hunter2", "password: '***'"))
    refused = invoke("stage", "masked.yaml")
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "db.password" in refused.output
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}
