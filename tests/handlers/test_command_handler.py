"""The command handler runs an argv list without a shell, one rendered template per argument."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from retrograde.errors import StackSyntaxError
from retrograde.handlers.command import CommandHandler
from retrograde.handlers.registry import run_action
from retrograde.model.types import ActionSpec, ResourceType, encode_argv
from retrograde.planning.stackfile import parse_stack

from .conftest import ATTACKS, RequestFactory

ECHO_ARGV = "import json, sys; json.dump(sys.argv[1:], open('argv.json', 'w'))"
"""A program that writes the arguments it received to argv.json."""


@pytest.fixture
def command() -> CommandHandler:
    return CommandHandler()


def argv_target(*args: str) -> str:
    return encode_argv([sys.executable, "-c", ECHO_ARGV, *args])


@pytest.mark.parametrize("value", ATTACKS)
def test_each_argument_is_received_exactly(
    command: CommandHandler, make_request: RequestFactory, tmp_path: Path, value: str
) -> None:
    """A value is one argument, byte for byte, and nothing reads it as shell syntax."""
    target = argv_target("--ip", "{{ inputs.value }}", "at-{{ inputs.value }}", "{{ resource }}")
    result = command.run(make_request("command", target, inputs={"value": value}))
    assert result["ok"], result
    assert not (tmp_path / "PWNED").exists()
    received = json.loads((tmp_path / "argv.json").read_text())
    assert received == ["--ip", value, f"at-{value}", "web"]


def test_stdin_environment_and_cwd_are_the_shell_handlers(
    command: CommandHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """The program runs in cwd with the context on stdin and the RETROGRADE_* variables."""
    script = (
        "import json, os, sys; json.dump({'stdin': json.load(sys.stdin), "
        "'env': os.environ['RETROGRADE_ACTION'] + os.environ['RETROGRADE_RESOURCE']}, "
        "open('seen.json', 'w'))"
    )
    request = make_request("command", encode_argv([sys.executable, "-c", script]), inputs={"a": 1})
    assert command.run(request)["ok"]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"stdin": request["context"], "env": "runweb"}


def test_failure_reports_exit_code_and_stderr(
    command: CommandHandler, make_request: RequestFactory
) -> None:
    """A non-zero exit fails with its code and stderr, like a shell command."""
    script = "import sys; sys.stderr.write('no route to {{ resource }}'); sys.exit(5)"
    result = command.run(make_request("command", encode_argv([sys.executable, "-c", script])))
    assert not result["ok"]
    assert result["exit_code"] == 5
    assert result["error"] == "no route to web"


def test_timeout_is_a_failure(command: CommandHandler, make_request: RequestFactory) -> None:
    """The action's timeout kills the program."""
    request = make_request("command", encode_argv(["sleep", "30"]), timeout=0.3)
    result = command.run(request)
    assert not result["ok"]
    assert "timed out after 0.3 s" in result["error"]


def test_missing_program_is_a_failure(
    command: CommandHandler, make_request: RequestFactory
) -> None:
    """A program that does not exist fails the action, naming it."""
    result = command.run(make_request("command", encode_argv(["no-such-program-here", "x"])))
    assert not result["ok"]
    assert "no-such-program-here" in result["error"]


def test_undefined_reference_runs_nothing(
    command: CommandHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A misspelt input fails the action, naming the resource, before anything runs."""
    result = command.run(make_request("command", argv_target("{{ inputs.nope }}"), inputs={}))
    assert not result["ok"]
    assert result["error"].startswith("resource 'web': command template error")
    assert not (tmp_path / "argv.json").exists()


def test_registry_runs_command_actions(make_request: RequestFactory, tmp_path: Path) -> None:
    """``command`` is a registered kind."""
    assert run_action(make_request("command", argv_target("a b")))["ok"]
    assert json.loads((tmp_path / "argv.json").read_text()) == ["a b"]


def parse_types(actions: str) -> dict[str, ResourceType]:
    text = f"types:\n  t:\n    version: 1\n    actions:\n{actions}"
    return parse_stack(text, source="stack.yaml", base_dir="/srv").types


def test_stack_file_argv_is_kept_as_a_list() -> None:
    """A ``command:`` list parses to its argv, and the type writes it back as a list."""
    types = parse_types('      run: {command: [deploy, --ip, "{{ inputs.ip }}"], timeout: 4}\n')
    spec = types["t"].actions["run"]
    assert spec == ActionSpec("command", encode_argv(["deploy", "--ip", "{{ inputs.ip }}"]), 4.0)
    assert spec.to_json() == {"command": ["deploy", "--ip", "{{ inputs.ip }}"], "timeout": 4.0}
    assert ResourceType.from_json(types["t"].to_json()) == types["t"]


@pytest.mark.parametrize(
    ("actions", "location", "message"),
    [
        (
            "      run: {command: deploy --ip x}\n",
            "5:22",
            "command handler of action 'run' of type 't' must be a non-empty list of strings",
        ),
        ("      run: {command: []}\n", "5:22", "got list []"),
        (
            "      run: {command: [deploy, --port, 80]}\n",
            "5:39",
            "argument 3 of the command handler of action 'run' of type 't' must be a string, "
            "got integer 80",
        ),
        (
            "      run:\n        command:\n          - deploy\n          - null\n",
            "8:13",
            "got null",
        ),
        ("      run: {command: ['', x]}\n", "5:23", "must start with a program, got ''"),
    ],
)
def test_malformed_argv_is_a_located_error(actions: str, location: str, message: str) -> None:
    """A ``command:`` that is not a non-empty list of strings is one error at its place."""
    with pytest.raises(StackSyntaxError) as caught:
        parse_types(actions)
    assert caught.value.location == f"stack.yaml:{location}"
    assert message in caught.value.problem
    assert "\n" not in str(caught.value)
