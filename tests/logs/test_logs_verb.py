"""``logs``: what real shell handlers wrote, beside their commits and failures, on every store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.logs.conftest import Invoke
from tests.logs.stacks import chain
from tests.stacks import write

FAILING = """
types:
  thing:
    version: 1
    inputs:
      n: {type: integer}
    actions:
      run: {shell: 'echo "fine {{ resource }}"'}
  broken:
    version: 1
    inputs:
      n: {type: integer}
    actions:
      run: {shell: 'echo "starting {{ resource }}"; echo "disk full on {{ resource }}" >&2; exit 2'}
resources:
  base: {type: thing, inputs: {n: 1}}
  bad: {type: broken, inputs: {n: "${base.n}"}}
"""


def test_logs_rev_shows_stdout_with_the_secret_masked(invoke: Invoke, tmp_path: Path) -> None:
    """A successful handler's stdout is kept with its commit; its secret prints as ***."""
    stack = write(
        tmp_path, "stack.yaml", chain('echo "deploying {{ resource }} with {{ inputs.password }}"')
    )
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    shown = invoke("logs", "2")
    assert shown.exit_code == 0
    assert "deploying b with ***" in shown.stdout
    assert "s3cret-value" not in shown.stdout
    assert shown.stdout.splitlines()[0].startswith("== b  apply 1  attempt 1  rev 2  ok")
    entry = json.loads(invoke("logs", "2", "--json").stdout)["logs"]
    assert entry == [
        {
            "rev": 2,
            "apply_id": 1,
            "resource": "b",
            "attempt": 1,
            "ok": True,
            "stdout": "deploying b with ***\n",
            "stderr": "",
            "truncated": False,
            "dropped": False,
        }
    ]


def test_logs_apply_shows_a_failed_actions_stderr(invoke: Invoke, tmp_path: Path) -> None:
    """A failure's output is kept by apply, resource and attempt, without a revision."""
    assert invoke("apply", str(write(tmp_path, "stack.yaml", FAILING)), "--yes").exit_code == 1
    shown = invoke("logs", "--apply", "1", "bad")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines() == [
        "== bad  apply 1  attempt 1  failed",
        "stdout:",
        "  starting bad",
        "stderr:",
        "  disk full on bad",
    ]
    whole = json.loads(invoke("logs", "--apply", "1", "--json").stdout)["logs"]
    assert [(e["resource"], e["ok"], e["rev"]) for e in whole] == [
        ("base", True, 1),
        ("bad", False, None),
    ]
    assert whole[1]["stderr"] == "disk full on bad\n"


def test_control_characters_in_output_print_escaped(invoke: Invoke, tmp_path: Path) -> None:
    """Output cannot drive the terminal: escapes print literally, as text."""
    stack = write(
        tmp_path, "stack.yaml", chain(r'printf "\033]0;owned\007red\rover\n"', names=("a",))
    )
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    shown = invoke("logs", "1").stdout
    assert "\x1b" not in shown and "\x07" not in shown
    assert r"  \x1b]0;owned\x07red\rover" in shown.splitlines()


def test_a_megabyte_of_output_keeps_its_start_and_end(invoke: Invoke, tmp_path: Path) -> None:
    """Each stream is capped: the first and last parts stay, around a mark saying how much went."""
    run = "echo FIRST-LINE; yes x | head -c 1000000; echo LAST-LINE"
    stack = write(tmp_path, "stack.yaml", chain(run, names=("a",)))
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    (entry,) = json.loads(invoke("logs", "1", "--json").stdout)["logs"]
    stdout = entry["stdout"]
    assert entry["truncated"] is True
    assert stdout.startswith("FIRST-LINE\nx\nx\n")
    assert stdout.endswith("x\nx\nLAST-LINE\n")
    assert re.search(r"\n\[… [\d,]+ characters cut …\]\n", stdout)
    assert 64 * 1024 <= len(stdout) < 64 * 1024 + 100
    assert "(cut: only the start and the end" in invoke("logs", "1").stdout


def test_output_is_not_exported(invoke: Invoke, tmp_path: Path) -> None:
    """Handler output lives outside the log: an export never holds it (the handler prints a
    text its command does not contain, and the export holds the command)."""
    stack = write(tmp_path, "stack.yaml", chain('printf "%s-%s\\n" OUTPUT MARKER'))
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    assert "  OUTPUT-MARKER" in invoke("logs", "1").stdout.splitlines()
    exported = tmp_path / "log.jsonl"
    assert invoke("export", "-o", str(exported)).exit_code == 0
    text = exported.read_text()
    assert text.count("\n") >= 3
    assert "OUTPUT-MARKER" not in text


def test_logs_names_what_it_cannot_find(invoke: Invoke, tmp_path: Path) -> None:
    """An unknown revision or apply is one error line, exit 1; neither given is a usage error."""
    assert invoke("apply", str(write(tmp_path, "stack.yaml", FAILING)), "--yes").exit_code == 1
    for args in (("logs", "9"), ("logs", "--apply", "7"), ("logs", "--apply", "1", "nope")):
        refused = invoke(*args)
        assert refused.exit_code == 1, args
        assert refused.stderr.startswith("error: unknown"), args
    assert invoke("logs").exit_code == 2


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_apply_verbose_prints_each_start_and_end_in_order(
    invoke: Invoke, tmp_path: Path, jobs: str
) -> None:
    """``apply -v`` writes one line as each action of a 3-action chain starts and one as it ends."""
    stack = write(tmp_path, "stack.yaml", chain("true"))
    result = invoke("apply", str(stack), "--yes", "-v", "--jobs", jobs)
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line[:1] in "→✓✗"]
    expected = []
    for name in "abc":
        expected += [rf"→ run {name}", rf"✓ run {name} \d+\.\d s"]
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_apply_verbose_names_a_failures_exit_code(invoke: Invoke, tmp_path: Path) -> None:
    """A failed action's line says how it failed; without -v no such lines are printed."""
    stack = write(tmp_path, "stack.yaml", FAILING)
    result = invoke("apply", str(stack), "--yes", "-v")
    assert result.exit_code == 1
    assert "✗ run bad: exit 2" in result.stderr.splitlines()
    assert "→ run bad" in result.stderr.splitlines()
    invoke("discard")
    quiet = invoke("apply", str(stack), "--yes")
    assert "→" not in quiet.stderr and "✗ run" not in quiet.stderr
