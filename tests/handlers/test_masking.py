"""Every handler masks its action's secrets in the failure it reports, before cutting it.

The mask itself is tested from literals; the handlers with real ``/bin/sh``
commands, real programs and a real Python module.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

import pytest

from retrograde.handlers.command import CommandHandler
from retrograde.handlers.process import ERROR_TAIL_CHARS
from retrograde.handlers.python import PythonHandler
from retrograde.handlers.registry import run_action
from retrograde.handlers.shell import ShellHandler
from retrograde.model.masking import SecretMask, secret_values, written_forms
from retrograde.model.types import encode_argv

from .conftest import ATTACKS, RequestFactory

SECRET = "hunter2-$\"quoted'-\\slash"


@pytest.mark.parametrize(
    "value", [SECRET, *filter(None, ATTACKS), "p\u00e4ss", "\u043f\u0430\u0440\u043e\u043b\u044c"]
)
def test_every_written_form_is_masked(value: str) -> None:
    """The value as is, JSON-escaped, repr-escaped and shell-quoted each become ``***``."""
    mask = SecretMask([value])
    forms = [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        shlex.quote(value),
        value.replace("'", "'\\''"),
    ]
    for form in forms:
        assert mask(f"<{form}>") == "<***>", form


def test_the_longest_value_wins_where_values_overlap() -> None:
    """A secret that contains another is masked whole, not as the shorter one plus its rest."""
    mask = SecretMask(["abc", "abcdef"])
    assert mask("x abcdef y abc z") == "x *** y *** z"


def test_short_secrets_are_masked_wherever_they_occur() -> None:
    """A two-character secret is masked even inside other words (documented: aggressive)."""
    assert SecretMask(["42"])("port 4200, pin 42") == "port ***00, pin ***"


def test_no_secrets_and_empty_secrets_leave_text_alone() -> None:
    """An action without secrets (or with an empty one) reports its text unchanged."""
    assert SecretMask([])("a b c") == "a b c"
    assert SecretMask([""])("a b c") == "a b c"
    assert "" not in written_forms("")


def test_secret_values_cover_inputs_previous_and_diff() -> None:
    """Only secret inputs count; numbers by their JSON text, lists by theirs and their leaves."""
    values = secret_values(
        frozenset({"password", "pin", "keys", "gone"}),
        {"password": "new", "pin": 1234, "keys": ["k1", 5678], "host": "db1"},
        {"password": "old", "pin": None, "host": "db0"},
        {"gone": {"from": "was-secret", "to": None}, "host": {"from": "db0", "to": "db1"}},
    )
    assert values == sorted(["new", "old", "1234", '["k1", 5678]', "k1", "5678", "was-secret"])


@pytest.fixture
def shell() -> ShellHandler:
    return ShellHandler()


def test_a_secret_cut_by_the_tail_leaves_none_of_itself(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """Output that would cut the secret at the tail's start shows only the mask there."""
    secret = "TOPSECRET-TAIL-PART"
    filler = ERROR_TAIL_CHARS - 5
    target = (
        "printf %s {{ inputs.password }} >&2;"
        f" head -c {filler} /dev/zero | tr '\\0' x >&2; exit 1"
    )
    request = make_request("shell", target, inputs={"password": secret}, secrets=[secret])
    error = shell.run(request)["error"]
    assert error.endswith("x" * filler)
    assert "PART" not in error and "TAIL" not in error
    assert error.startswith("*")


def test_a_timed_out_commands_output_is_masked(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """The timeout failure keeps what the command wrote, secret masked."""
    request = make_request(
        "shell",
        "printf 'pw=%s\\n' {{ inputs.password }} >&2; sleep 30",
        inputs={"password": SECRET},
        secrets=[SECRET],
        timeout=0.5,
    )
    error = shell.run(request)["error"]
    assert error == "timed out after 0.5 s\npw=***\n"


def test_a_command_that_prints_its_argument_and_stdin_is_masked(
    make_request: RequestFactory,
) -> None:
    """A ``command`` program's stderr (an argument, its stdin JSON) shows ``***``."""
    argv = encode_argv(
        ["sh", "-c", 'printf "%s " "$1" >&2; cat >&2; exit 2', "sh", "{{ inputs.password }}"]
    )
    request = make_request("command", argv, inputs={"password": SECRET}, secrets=[SECRET])
    result = CommandHandler().run(request)
    assert result["exit_code"] == 2
    assert result["error"].startswith('*** {"action": "run"')
    assert '"password": "***"' in result["error"]
    assert "hunter2" not in result["error"]


def test_a_program_named_by_a_secret_that_cannot_start_is_masked(
    make_request: RequestFactory,
) -> None:
    """``cannot start '…'`` quotes the program; a secret there is masked."""
    secret = "no-such-program-s3cr3t"
    argv = encode_argv(["{{ inputs.password }}"])
    request = make_request("command", argv, inputs={"password": secret}, secrets=[secret])
    error = CommandHandler().run(request)["error"]
    assert error.startswith("cannot start '***'")
    assert "s3cr3t" not in error


PYTHON_SOURCE = textwrap.dedent(
    """
    def long_message(context):
        raise RuntimeError("x" * 981 + context["inputs"]["password"])

    def refuse(context):
        return {"ok": False, "error": "refused " + context["inputs"]["password"]}

    def deep(context):
        password = context["inputs"]["password"]
        assert password == "", password
    """
)


@pytest.fixture
def python_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The module name of a real module holding the functions above."""
    lib = tmp_path / "pylib"
    lib.mkdir()
    (lib / "retrograde_test_masking_actions.py").write_text(PYTHON_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(lib))
    return "retrograde_test_masking_actions"


@pytest.mark.parametrize("function", ["long_message", "refuse", "deep"])
def test_python_failures_are_masked(
    python_target: str, make_request: RequestFactory, function: str
) -> None:
    """Exception messages (also one cut at the headline's cap) and returned errors show ``***``."""
    request = make_request(
        "python", f"{python_target}:{function}", inputs={"password": SECRET}, secrets=[SECRET]
    )
    error = PythonHandler().run(request)["error"]
    assert "***" in error
    assert "hunt" not in error and "slash" not in error


def test_the_registry_masks_a_handler_bug(make_request: RequestFactory) -> None:
    """A request whose handler raises (here, a target that is not argv JSON) is masked too."""
    request = make_request("command", "[not json " + SECRET, secrets=[SECRET])
    result = run_action(request)
    assert result["ok"] is False
    assert "hunter2" not in result["error"]


@pytest.mark.parametrize(
    "text",
    [
        "ABCDEFGHIJ" * 1000 + "xyz",
        "xyz" + "ABCDEFGHIJ" * 1000,
        "x" * 9000 + "ABCDEFGHIJ" + "y" * 1995,
        "ABCDEFGHIJ" + "y" * 100,
        "ab" * 10_000,
    ],
)
def test_a_long_texts_tail_and_head_are_as_if_masked_whole(text: str) -> None:
    """Only the end (or start) of a long text is masked, with the same result as all of it."""
    mask = SecretMask(["ABCDEFGHIJ", "b"])
    assert mask.tail(text, 2000) == mask(text)[-2000:]
    assert mask.head(text, 1000) == mask(text)[:1000]
    assert "DEFGHIJ" not in mask.tail(text, 2000) and "ABCDEFG" not in mask.head(text, 1000)
