"""Values reach /bin/sh quoted for where they stand in the template, unless marked ``| raw``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrograde.handlers.shell import ShellHandler

from .conftest import ATTACKS, RequestFactory

POSITIONS = {
    "unquoted": "printf '%s' {{ inputs.value }} > out",
    "single-quoted": "printf '%s' '{{ inputs.value }}' > out",
    "double-quoted": "printf '%s' \"{{ inputs.value }}\" > out",
    "inside a longer single-quoted word": "printf '%s' 'before {{ inputs.value }} after' > out",
    "inside a longer double-quoted word": "printf '%s' \"before {{ inputs.value }} after\" > out",
    "command substitution in double quotes": (
        "printf '%s' \"$(printf '%s' {{ inputs.value }})\" > out"
    ),
    "backquotes": "printf '%s' \"`printf '%s' {{ inputs.value }}`\" > out",
    "here-document in command substitution": (
        "printf '%s' \"$(cat <<EOF\n{{ inputs.value }}\nEOF\n)\" > out"
    ),
    "after a comment with a quote": "# don't mind me\nprintf '%s' {{ inputs.value }} > out",
}


@pytest.fixture
def shell() -> ShellHandler:
    return ShellHandler()


def expected(position: str, value: str) -> str:
    """What the command should write: the value itself, inside the template's own text."""
    if position.startswith("inside a longer"):
        return f"before {value} after"
    if position.startswith(("command substitution", "backquotes", "here-document")):
        return value.rstrip("\n")
    return value


@pytest.mark.parametrize("value", ATTACKS)
@pytest.mark.parametrize("position", POSITIONS)
def test_an_input_value_cannot_change_the_command(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path, position: str, value: str
) -> None:
    """Whatever an input holds, the command receives exactly it and runs nothing else."""
    result = shell.run(make_request("shell", POSITIONS[position], inputs={"value": value}))
    assert result["ok"], result
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "out").read_text() == expected(position, value)


@pytest.mark.parametrize("value", ATTACKS[:4])
def test_previous_values_are_quoted_too(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path, value: str
) -> None:
    """A remove's template reads ``previous``, whose values are quoted like inputs."""
    request = make_request(
        "shell",
        "printf '%s' {{ previous.value }} > out",
        action="remove",
        previous={"value": value},
    )
    assert shell.run(request)["ok"]
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "out").read_text() == value


def test_raw_values_are_pasted_as_shell_text(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """``| raw`` opts out: the value is shell syntax, so its ``;`` separates commands."""
    value = "'a  b' > out; touch RAN"
    request = make_request("shell", "printf '%s' {{ inputs.value | raw }}", inputs={"value": value})
    assert shell.run(request)["ok"]
    assert (tmp_path / "RAN").exists()
    assert (tmp_path / "out").read_text() == "a  b"


def test_tojson_in_single_quotes_is_valid_json(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """``'{{ inputs | tojson }}'`` keeps its meaning: the command reads the inputs as JSON."""
    inputs = {"ip": "10.0.0.1", "note": 'it\'s "fine"; $(touch PWNED)', "ports": [1, 2], "n": None}
    request = make_request("shell", "printf '%s' '{{ inputs | tojson }}' > out", inputs=inputs)
    assert shell.run(request)["ok"]
    assert not (tmp_path / "PWNED").exists()
    assert json.loads((tmp_path / "out").read_text()) == inputs


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ([1, "a b"], "[1, 'a b']"),
        ({"k": "v"}, "{'k': 'v'}"),
        (5000, "5000"),
        (1.5, "1.5"),
        (None, "None"),
        (True, "True"),
    ],
)
@pytest.mark.parametrize("template", ["{{ inputs.value }}", "'{{ inputs.value }}'"])
def test_other_values_render_as_text_then_are_quoted(
    shell: ShellHandler,
    make_request: RequestFactory,
    tmp_path: Path,
    template: str,
    value: object,
    shown: str,
) -> None:
    """Lists, dicts, numbers and null render as Jinja2 renders them, then are quoted."""
    request = make_request("shell", f"printf '%s' {template} > out", inputs={"value": value})
    assert shell.run(request)["ok"]
    assert (tmp_path / "out").read_text() == shown


def test_values_in_loops_are_quoted_one_by_one(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """Each value a loop emits is one word, whatever it holds."""
    request = make_request(
        "shell",
        "printf '<%s>' {% for b in inputs.backends %}{{ b }} {% endfor %}> out",
        inputs={"backends": ["a b", "c; touch PWNED"]},
    )
    assert shell.run(request)["ok"]
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "out").read_text() == "<a b><c; touch PWNED>"


def test_a_value_in_a_here_document_is_not_expanded(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """Inside an expanding here-document, ``$`` and backquotes in a value stay text."""
    template = (
        "cat > out <<EOF\nvalue={{ inputs.value }}\nEOF\nprintf '%s' {{ inputs.value }} > out2"
    )
    value = "$(touch PWNED) `touch PWNED` \\ \"'"
    assert shell.run(make_request("shell", template, inputs={"value": value}))["ok"]
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "out").read_text() == f"value={value}\n"
    assert (tmp_path / "out2").read_text() == value


def test_a_value_cannot_end_a_here_document(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A value holding the here-document's delimiter line fails the action and runs nothing."""
    template = "cat > out <<'EOF'\n{{ inputs.value }}\nEOF\n"
    request = make_request("shell", template, inputs={"value": "x\nEOF\ntouch PWNED"})
    result = shell.run(request)
    assert not result["ok"]
    assert "here-document" in result["error"]
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "PWNED").exists()


def test_a_value_after_a_backslash_is_refused(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A backslash would escape the value's opening quote, so the template is refused."""
    request = make_request("shell", "touch ran; echo \\{{ inputs.value }}", inputs={"value": "x"})
    result = shell.run(request)
    assert not result["ok"]
    assert "backslash" in result["error"]
    assert not (tmp_path / "ran").exists()
