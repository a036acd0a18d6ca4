"""Through stage and apply: values reach commands as data, and ``| raw`` is called out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import retrograde
from retrograde.commands.staging import stage_file
from tests.conftest import Invoke

STACK = """\
types:
  svc:
    version: 1
    inputs:
      name: {type: string}
    actions:
      run: {shell: "printf '%%s' {{ inputs.name }} > shell.out"}
      update:
        command:
          - %(python)s
          - -c
          - "import sys; open('argv.out', 'w').write(sys.argv[1])"
          - "{{ inputs.name }}"
      remove: {shell: "rm -f shell.out"}
resources:
  web: {type: svc, inputs: {name: %(name)s}}
"""

ATTACK = "\"x'; touch PWNED; echo '$(touch PWNED)\""


def write_stack(directory: Path, name: str) -> Path:
    path = directory / "stack.yaml"
    path.write_text(STACK % {"python": json.dumps(sys.executable), "name": name})
    return path


def test_shell_and_command_actions_receive_the_value_itself(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """An applied stack's shell and command handlers get the stack's value, and nothing runs."""
    report = retrograde.apply(ctx, write_stack(tmp_path, ATTACK), message="run")
    assert report.failed == ()
    assert (tmp_path / "shell.out").read_text() == json.loads(ATTACK)
    report = retrograde.apply(ctx, write_stack(tmp_path, '"a b; touch PWNED"'), message="update")
    assert report.failed == ()
    assert (tmp_path / "argv.out").read_text() == "a b; touch PWNED"
    assert not (tmp_path / "PWNED").exists()


RAW_TYPES = """\
types:
  svc:
    version: 1
    inputs:
      flags: {type: string}
    actions:
      run: {shell: "echo {{ inputs.flags | raw }} {{ resource | raw }}"}
      update: {shell: "echo {{ inputs['flags'] | raw }} {{ inputs.flags }}"}
      remove: {shell: "echo '{{ previous | tojson | raw }}'"}
  quiet:
    version: 1
    actions:
      run: {command: [echo, "{{ inputs | raw }}"]}
resources:
  web: {type: svc, inputs: {flags: -v}}
"""


def test_stage_warns_once_per_raw_input_value(invoke: Invoke, tmp_path: Path) -> None:
    """Each ``| raw`` on an input value is one stderr line naming type, action and input."""
    (tmp_path / "stack.yaml").write_text(RAW_TYPES)
    result = invoke("stage", "stack.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: type 'svc', action 'run': inputs.flags is pasted into the shell command "
        "unquoted (| raw); a value holding shell syntax will run",
        "warning: type 'svc', action 'update': inputs.flags is pasted into the shell command "
        "unquoted (| raw); a value holding shell syntax will run",
        "warning: type 'svc', action 'remove': previous is pasted into the shell command "
        "unquoted (| raw); a value holding shell syntax will run",
    ]
    assert "warning" not in result.stdout


def test_stage_keeps_the_warnings_in_its_result(ctx: retrograde.Context, tmp_path: Path) -> None:
    """The staging result carries the warnings as data for any caller."""
    (tmp_path / "stack.yaml").write_text(RAW_TYPES)
    staged = stage_file(ctx, Path("stack.yaml"))
    assert [(w.type, w.action, w.input) for w in staged.warnings] == [
        ("svc", "run", "inputs.flags"),
        ("svc", "update", "inputs.flags"),
        ("svc", "remove", "previous"),
    ]
