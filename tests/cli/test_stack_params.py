"""Stack parameters end to end on every store: --var, --var-file, RETROGRADE_VAR_<name>,
secret vars masked everywhere, a module included twice, and the output verb."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke

SECRET = "hunter2-Zq9"

STACK = """\
vars:
  region: {type: string, default: eu-west-1}
  replicas: {type: integer, default: 1}
  password: {type: string, secret: true}
include: [{file: modules/db.yaml, prefix: eu-}, {file: modules/db.yaml, prefix: us-}]
types:
  net:
    version: 1
    inputs: {zone: {type: string}}
    actions: {run: {shell: 'echo zone={{ inputs.zone }}'}}
resources:
  net: {type: net, inputs: {zone: "zone-${var.region}"}}
  web:
    type: db
    inputs: {host: "${eu-db.host}", password: "${var.password}", replicas: "${var.replicas}"}
outputs:
  url: "postgres://${eu-db.host}:5432/${var.region}"
  replicas: "${us-db.replicas}"
  password: "${web.password}"
  token: "t-${var.password}"
  answer: 42
"""

MODULE = """\
types:
  db:
    version: 1
    inputs:
      host: {type: string}
      password: {type: string, secret: true}
      replicas: {type: integer, default: 2}
    actions:
      run:
        shell: >-
          printf '%s\\n' "run {{ resource }} {{ inputs.host }} {{ inputs.password }}"
          && printf '%s' {{ inputs.host }} > {{ resource }}.host
resources:
  db: {type: db, inputs: {host: "${net.zone}", password: "${var.password}"}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stack and its module in ``tmp_path``; the secret var comes from the environment."""
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "db.yaml").write_text(MODULE)
    (tmp_path / "stack.yaml").write_text(STACK)
    monkeypatch.setenv("RETROGRADE_VAR_password", SECRET)
    return tmp_path


def staged_inputs(invoke: Invoke, *args: str) -> dict[str, dict[str, object]]:
    """Stage stack.yaml with ``args``; each staged resource's new input values."""
    result = invoke("stage", "stack.yaml", *args, "--json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.output)["changes"]
    return {name: {k: d["to"] for k, d in c["diff"].items()} for name, c in changes.items()}


def test_vars_from_flag_file_and_environment_by_precedence(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--var beats --var-file (later files win), which beats RETROGRADE_VAR_, then defaults."""
    assert staged_inputs(invoke)["net"] == {"zone": "zone-eu-west-1"}
    monkeypatch.setenv("RETROGRADE_VAR_region", "env")
    monkeypatch.setenv("RETROGRADE_VAR_REGION", "wrong case")
    assert staged_inputs(invoke)["net"] == {"zone": "zone-env"}
    (project / "a.yaml").write_text("region: file-a\nreplicas: 3\n")
    (project / "b.yaml").write_text("region: file-b\n")
    files = ("--var-file", "a.yaml", "--var-file", "b.yaml")
    changes = staged_inputs(invoke, *files)
    assert changes["net"] == {"zone": "zone-file-b"} and changes["web"]["replicas"] == 3
    changes = staged_inputs(invoke, *files, "--var", "region=flag", "--var", "replicas=4")
    assert changes["net"] == {"zone": "zone-flag"} and changes["web"]["replicas"] == 4
    assert changes["eu-db"]["host"] == "zone-flag"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--var", "replicas=many"),
            "stack.yaml:15:76: var 'replicas' must be integer, got string 'many'"
            " (from --var replicas=...)",
        ),
        (
            ("--var", "regoin=x"),
            "--var regoin: stack.yaml declares no var 'regoin'"
            " (it declares: region, replicas, password)",
        ),
        (("--var-file", "list.yaml"), "list.yaml:1:1: a var file must be a mapping"),
        (("--var-file", "missing.yaml"), "missing.yaml: cannot read var file: No such file"),
    ],
)
def test_bad_vars_are_one_line_exit_1_and_store_nothing(
    invoke: Invoke, project: Path, args: tuple[str, ...], message: str
) -> None:
    """A wrong type, an unknown name or a bad var file: one error line, exit 1, nothing staged."""
    (project / "list.yaml").write_text("- region\n")
    result = invoke("stage", "stack.yaml", *args)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {message}"), result.output
    assert result.output.count("\n") == 1
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}
    assert json.loads(invoke("output", "--json").output) == {"outputs": {}}


def test_a_missing_var_is_named_where_it_is_used(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the secret var, stage, validate and apply all refuse at its first use."""
    monkeypatch.delenv("RETROGRADE_VAR_password")
    expected = (
        "error: modules/db.yaml:14:58: var 'password' has no value: give --var password=VALUE,"
        " a --var-file or RETROGRADE_VAR_password"
    )
    for verb in (("stage",), ("validate",), ("apply", "--yes")):
        result = invoke(*verb, "stack.yaml")
        assert result.exit_code == 1
        assert result.output.splitlines()[0].endswith(expected[len("error: ") :]), result.output
    assert json.loads(invoke("diff", "--json").output)["changes"] == {}


def test_a_var_that_is_not_name_equals_value_is_a_usage_error(
    invoke: Invoke, project: Path
) -> None:
    """--var without = is a usage error (exit 2)."""
    result = invoke("stage", "stack.yaml", "--var", "region")
    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.output


def test_a_secret_var_is_masked_in_every_output(invoke: Invoke, project: Path) -> None:
    """stage, diff, plan, apply -v, state, log, logs and output never show the secret var's
    value; the handler received it."""
    seen = [
        invoke("stage", "stack.yaml").output,
        invoke("diff").output,
        invoke("diff", "--json").output,
        invoke("plan").output,
        invoke("apply", "--yes", "-v").output,
        invoke("state", "--json").output,
        invoke("log", "--json").output,
        invoke("logs", "--apply", "1").output,
        invoke("output").output,
        invoke("output", "--json").output,
        invoke("state", "--stack").output,
    ]
    for text in seen:
        assert SECRET not in text
    assert "***" in invoke("logs", "--apply", "1").output
    assert (project / "eu-db.host").read_text() == "zone-eu-west-1"


def test_a_module_included_twice_is_staged_and_applied_under_both_prefixes(
    invoke: Invoke, project: Path
) -> None:
    """eu-db and us-db are both applied, each connected to the includer's net, and web to
    eu-db."""
    applied = invoke("apply", "stack.yaml", "--yes", "--json")
    assert applied.exit_code == 0, applied.output
    state = json.loads(invoke("state", "--json").output)["resources"]
    assert sorted(state) == ["eu-db", "net", "us-db", "web"]
    assert state["eu-db"]["connections"] == {"host": "net.zone"}
    assert state["us-db"]["connections"] == {"host": "net.zone"}
    assert state["web"]["connections"] == {"host": "eu-db.host"}
    assert (project / "us-db.host").read_text() == "zone-eu-west-1"


def test_output_text_and_json_from_committed_state(invoke: Invoke, project: Path) -> None:
    """Before apply the outputs are null; after it, their committed values, secrets masked."""
    invoke("stage", "stack.yaml", "--var", "region=ap")
    before = json.loads(invoke("output", "--json").output)
    assert before == {
        "outputs": {"url": None, "replicas": None, "password": None, "token": "***", "answer": 42}
    }
    assert invoke("apply", "--yes").exit_code == 0
    after = json.loads(invoke("output", "--json").output)
    assert after == {
        "outputs": {
            "url": "postgres://zone-ap:5432/ap",
            "replicas": 2,
            "password": "***",
            "token": "***",
            "answer": 42,
        }
    }
    text = invoke("output").output
    assert text == (
        'url = "postgres://zone-ap:5432/ap"\nreplicas = 2\npassword = "***"\n'
        'token = "***"\nanswer = 42\n'
    )
    assert invoke("output", "url").output == "postgres://zone-ap:5432/ap\n"
    assert json.loads(invoke("output", "replicas", "--json").output) == 2
    unknown = invoke("output", "nope")
    assert unknown.exit_code == 1 and unknown.output == "error: unknown output 'nope'\n"


def test_hostile_var_values_stay_data_through_a_shell_handler(
    invoke: Invoke, project: Path
) -> None:
    """A var value holding ${...} and shell syntax reaches the handler as those characters."""
    value = '${web.password}\'; touch pwned; echo "$(id)" `id`'
    applied = invoke("apply", "stack.yaml", "--yes", "--var", f"region={value}")
    assert applied.exit_code == 0, applied.output
    assert (project / "eu-db.host").read_text() == f"zone-{value}"
    assert not (project / "pwned").exists()
    state = json.loads(invoke("state", "--json").output)["resources"]
    assert state["net"]["connections"] == {}


def test_every_verb_reading_a_stack_file_takes_vars(invoke: Invoke) -> None:
    """stage, validate, apply and resume document --var and --var-file; output explains itself."""
    for verb in ("stage", "validate", "apply", "resume"):
        shown = invoke(verb, "--help").output
        assert "--var NAME=VALUE" in shown and "--var-file FILE" in shown, verb
    assert "Show the stack's outputs" in invoke("output", "--help").output


def test_validate_and_apply_of_a_saved_plan_with_vars(invoke: Invoke, project: Path) -> None:
    """validate takes --var; a saved plan refuses --var (it holds no stack file)."""
    valid = invoke("validate", "stack.yaml", "--var", "replicas=5")
    assert valid.exit_code == 0, valid.output
    invoke("stage", "stack.yaml")
    assert invoke("plan", "-o", "saved.plan").exit_code == 0
    refused = invoke("apply", "saved.plan", "--var", "region=x")
    assert refused.exit_code == 2 and "no --var" in refused.output


def test_handlers_do_not_inherit_var_environment_variables(invoke: Invoke, project: Path) -> None:
    """RETROGRADE_VAR_<name> is not in any handler's environment, so a handler printing its
    environment cannot show a secret var unmasked."""
    (project / "stack.yaml").write_text(STACK.replace("echo zone={{ inputs.zone }}", "env"))
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    shown = invoke("logs", "--apply", "1", "net").output
    assert "RETROGRADE_RESOURCE=net" in shown
    assert "RETROGRADE_VAR_" not in shown and SECRET not in shown


def test_state_stack_writes_the_outputs_back(invoke: Invoke, project: Path) -> None:
    """The printed stack holds the outputs (a secret var's place as a secret var); staged with
    its vars it changes nothing, outputs included."""
    assert invoke("apply", "stack.yaml", "--yes", "--var", "region=ap").exit_code == 0
    before = invoke("output", "--json").output
    printed = invoke("state", "--stack").output
    assert SECRET not in printed and "***" not in printed
    assert "url: postgres://${eu-db.host}:5432/ap" in printed
    assert "token: t-${var.output_token_password}" in printed
    (project / "back.yaml").write_text(printed)
    names = ("output_token_password", "eu_db_password", "us_db_password", "web_password")
    (project / "secrets.yaml").write_text("".join(f"{name}: {SECRET}\n" for name in names))
    given = ("--var-file", "secrets.yaml")
    staged = invoke("stage", "back.yaml", *given, "--json")
    assert json.loads(staged.output).get("changes") == {}, staged.output
    assert invoke("output", "--json").output == before
