"""Text output for people: summaries first, capped listings with a hint, grouped failures."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from retrograde.cli.text import clip, escape, name_list, revision_ranges
from tests.cli.conftest import Invoke
from tests.commands.stacks import write

CLI = [sys.executable, "-m", "retrograde.cli.main"]

BOX = """
types:
  box:
    version: 1
    inputs:
      v: {type: string}
    actions:
      run: {shell: 'true'}
      update: {shell: 'true'}
      remove: {shell: 'true'}
  broken:
    version: 1
    inputs:
      v: {type: string}
    actions:
      run: {shell: '%s'}
      update: {shell: 'true'}
      remove: {shell: 'true'}
resources:
"""


def boxes(values: dict[str, str], *, failing: str = "echo boom >&2; exit 3") -> str:
    """A stack of independent ``box`` resources with input ``v``."""
    lines = [BOX % failing]
    for name, value in values.items():
        lines.append(f"  {name}: {{type: box, inputs: {{v: {json.dumps(value)}}}}}\n")
    return "".join(lines)


def stage_file(invoke: Invoke, tmp_path: Path, text: str) -> str:
    """Write ``text`` as a stack file, stage it, return the text output."""
    result = invoke("stage", write(tmp_path, "stack.yaml", text).name)
    assert result.exit_code == 0, result.output
    return result.output


def many(count: int, prefix: str = "box") -> dict[str, str]:
    return {f"{prefix}-{i:03}": f"value {i}" for i in range(count)}


def test_stage_prints_the_counts_first(invoke: Invoke, tmp_path: Path) -> None:
    """Staging 3 new, 1 changed and 2 removed resources starts with exactly those counts."""
    first = {"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}
    invoke("apply", write(tmp_path, "v1.yaml", boxes(first)).name, "--yes")
    output = stage_file(
        invoke, tmp_path, boxes({"a": "1", "b": "1", "c": "2", "f": "1", "g": "1", "h": "1"})
    )
    assert output.splitlines()[0] == "6 staged change(s): 3 to run, 1 to update, 2 to remove."
    assert "~ update c" in output and "- remove e" in output and "+ run h" in output


def test_plan_ends_with_one_plan_line(invoke: Invoke, tmp_path: Path) -> None:
    """plan's last line, and its only Plan: line, counts run, update and remove."""
    first = {"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}
    invoke("apply", write(tmp_path, "v1.yaml", boxes(first)).name, "--yes")
    stage_file(
        invoke, tmp_path, boxes({"a": "1", "b": "1", "c": "2", "f": "1", "g": "1", "h": "1"})
    )
    lines = invoke("plan").output.splitlines()
    assert lines[-1] == "Plan: 3 to run, 1 to update, 2 to remove."
    assert [line for line in lines if line.startswith("Plan:")] == [lines[-1]]
    invoke("discard")
    assert invoke("plan").output.splitlines()[-1] == "Plan: 0 to run, 0 to update, 0 to remove."


def test_stage_shows_the_first_changes_and_points_to_diff(invoke: Invoke, tmp_path: Path) -> None:
    """Staging 25 resources lists 20 of them and says how many more and where to see them."""
    output = stage_file(invoke, tmp_path, boxes(many(25)))
    assert output.count("+ run box-") == 20
    assert "+ run box-019" in output and "box-020" not in output
    assert output.splitlines()[-1].startswith("… and 5 more changes (`retrograde diff --all`")


def test_diff_caps_at_200_and_limit_and_all_change_it(invoke: Invoke, tmp_path: Path) -> None:
    """diff lists 200 of 203 changes with a hint; --limit 3 lists three; --all every one."""
    stage_file(invoke, tmp_path, boxes(many(203)))
    default = invoke("diff").output
    assert default.count("+ run box-") == 200
    assert default.splitlines()[-1].startswith("… and 3 more changes (")
    limited = invoke("diff", "--limit", "3").output
    assert limited.count("+ run box-") == 3 and "… and 200 more changes" in limited
    everything = invoke("diff", "--all").output
    assert everything.count("+ run box-") == 203 and "more change" not in everything
    assert invoke("diff", "--limit", "0").exit_code == 2


def test_plan_caps_in_plan_order_and_keeps_the_plan_line(invoke: Invoke, tmp_path: Path) -> None:
    """plan --limit 4 shows actions 1-4, one more action, then the Plan: line."""
    stage_file(invoke, tmp_path, boxes(many(5)))
    lines = invoke("plan", "--limit", "4").output.splitlines()
    order = [a["resource"] for a in json.loads(invoke("plan", "--json").output)["actions"]]
    rows = [line.split()[3] for line in lines[2:6]]
    assert rows == order[:4]
    assert lines[6].startswith("… and 1 more action (`retrograde plan --all`")
    assert lines[7] == "Plan: 5 to run, 0 to update, 0 to remove."


def test_state_caps_resources(invoke: Invoke, tmp_path: Path) -> None:
    """state --limit 2 shows two of five resources and how to see the rest."""
    invoke("apply", write(tmp_path, "v1.yaml", boxes(many(5))).name, "--yes")
    output = invoke("state", "--limit", "2").output
    assert output.splitlines()[0] == "committed state at rev 5: 5 resource(s)"
    assert output.count("  box v1") == 2
    assert "… and 3 more resources (`retrograde state --all`" in output
    assert invoke("state", "--all").output.count("  box v1") == 5


def test_long_values_are_cut_but_never_below_80_characters(invoke: Invoke, tmp_path: Path) -> None:
    """A 500-character value shows its first 120 in a listing; --all and state R show it whole."""
    value = "x" * 500
    invoke("apply", write(tmp_path, "v1.yaml", boxes({"a": value, "b": "1"})).name, "--yes")
    listed = invoke("state").output
    assert "x" * 120 + "… (380 more characters)" in listed and "x" * 121 not in listed
    assert value in invoke("state", "a").output
    assert value in invoke("state", "--all").output
    assert clip("y" * 100) == "y" * 100  # a value under the cap is never cut


def test_identical_failures_are_grouped(invoke: Invoke, tmp_path: Path) -> None:
    """30 resources failing with one error print it once, the resources summarised."""
    stack = boxes({}) + "".join(
        f"  bad-{i:02}: {{type: broken, inputs: {{v: x}}}}\n" for i in range(30)
    )
    stack += "".join(
        f"  dep-{i:02}: {{type: box, inputs: {{v: '${{bad-{i:02}.v}}'}}}}\n" for i in range(30)
    )
    result = invoke("apply", write(tmp_path, "v1.yaml", stack).name, "--yes")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith("0 commit(s), 30 failed, 30 skipped")
    assert result.output.count("boom") == 1
    assert lines[1].startswith("✗ 30 resources: bad-00, bad-01, ") and lines[1].endswith(
        " more (exit 3)"
    )
    assert lines[2] == "  boom"
    skipped = lines[3]
    assert skipped.startswith("skipped: dep-00, dep-01, ") and " more" in skipped
    assert len(skipped) < 120


def test_distinct_failures_past_ten_are_summarised(invoke: Invoke, tmp_path: Path) -> None:
    """Twelve different error texts: ten shown with their text, the other two in one line."""
    stack = boxes({}, failing="echo {{ resource }} broke >&2; exit 4") + "".join(
        f"  bad-{i:02}: {{type: broken, inputs: {{v: x}}}}\n" for i in range(12)
    )
    output = invoke("apply", write(tmp_path, "v1.yaml", stack).name, "--yes").output
    assert output.count(" broke") == 10
    assert "✗ 2 more failed, other errors: bad-10, bad-11" in output


def test_revert_of_a_whole_apply_names_revision_ranges(invoke: Invoke, tmp_path: Path) -> None:
    """revert --apply of ten commits names the range 1-10, not each revision."""
    invoke("apply", write(tmp_path, "v1.yaml", boxes(many(10))).name, "--yes")
    output = invoke("revert", "--apply", "1", "--dry-run").output
    assert output.splitlines()[0] == "revert revisions 1-10: 10 change(s)"
    assert "Plan: 0 to run, 0 to update, 10 to remove." in output


def test_revision_ranges_and_name_lists() -> None:
    """Consecutive revisions become ranges; a name list stops near 80 characters."""
    assert revision_ranges([*range(12, 20_012), 20_015, 3]) == "3, 12-20,011, 20,015"
    assert revision_ranges([5]) == "5"
    names = [f"svc-{i}" for i in range(1_801)]
    listed = name_list(names)
    assert listed.startswith("svc-0, svc-1, ") and listed.endswith(" more")
    assert 80 <= len(listed) < 110
    assert name_list(["a", "b"]) == "a, b"


HOSTILE = "\x1b]0;title\x07\x1b[2J\rover [bold]x[/bold] [link=http://evil.example]y[/link]"
SHOWN = "\\x1b]0;title\\x07\\x1b[2J\\rover [bold]x[/bold] [link=http://evil.example]y[/link]"


def test_escape_writes_control_characters_as_escapes() -> None:
    """Control and bidi characters become escapes; ordinary text is returned unchanged."""
    assert escape(HOSTILE) == SHOWN
    assert escape("a\nb\tc\u202ed\x9b") == "a\\nb\\tc\\u202ed\\x9b"
    plain = "10.0.0.1 [x] é ✓"
    assert escape(plain) is plain


def assert_literal(output: str) -> None:
    assert "\x1b" not in output and "\r" not in output and "\x07" not in output
    assert SHOWN in output


def test_hostile_values_messages_and_names_print_literally(invoke: Invoke, tmp_path: Path) -> None:
    """Control characters and markup in values, messages, principals and names are shown as data."""
    tag = json.dumps(HOSTILE)
    stack = boxes({"a": HOSTILE}).replace("{type: box,", f"{{type: box, tags: {{n: {tag}}},", 1)
    outputs = [stage_file(invoke, tmp_path, stack), invoke("diff").output]
    applied = invoke("apply", "--yes", "-m", HOSTILE, "--principal", HOSTILE)
    assert applied.exit_code == 0
    refused = invoke("checkpoint", HOSTILE)  # not a valid name: the error line shows it escaped
    assert refused.exit_code == 1 and refused.output.startswith("error:")
    outputs.append(refused.output)
    assert invoke("checkpoint", "ok", "-m", HOSTILE).exit_code == 0
    for args in (["state"], ["state", "a"], ["show", "1"], ["log"], ["applies"], ["blame", "a"]):
        outputs.append(invoke(*args).output)
    outputs += [invoke("checkpoints").output, invoke("state", "--at", "ok").output]
    assert f"n={SHOWN}" in outputs[3]  # the tag, in state
    for output in outputs:
        assert_literal(output)
    assert (
        json.loads(invoke("state", "a", "--json").output)["resources"]["a"]["inputs"]["v"]
        == HOSTILE
    )


def test_hostile_handler_error_prints_literally(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler's stderr with control characters and markup is escaped in the apply report."""
    stack = boxes({}, failing='printf "%s\\\\n" "$V" >&2; exit 5') + (
        "  bad: {type: broken, inputs: {v: x}}\n"
    )
    monkeypatch.setenv("V", HOSTILE)
    output = invoke("apply", write(tmp_path, "v1.yaml", stack).name, "--yes").output
    assert_literal(output)


def test_a_real_process_on_a_colour_terminal_escapes_data(store_url: str, tmp_path: Path) -> None:
    """With colour forced, the only escape sequences printed are colours; data stays literal."""
    write(tmp_path, "v1.yaml", boxes({"a": HOSTILE}))
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color", "RETROGRADE_PRINCIPAL": "t"}
    env.pop("NO_COLOR", None)
    run = [*CLI, "--db", store_url]
    subprocess.run([*run, "apply", "v1.yaml", "--yes"], cwd=tmp_path, env=env, check=True)
    out = subprocess.run(
        [*run, "state"], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "\x1b[1m" in out  # colour is on: the resource name is bold
    assert_literal(re.sub(r"\x1b\[[0-9;]*m", "", out))


def test_apply_confirmation_shows_a_short_plan_and_repeats_the_plan_line(
    store_url: str, tmp_path: Path
) -> None:
    """On a terminal, apply shows 20 of 25 actions and asks with the Plan: line; 'n' aborts."""
    write(tmp_path, "v1.yaml", boxes(many(25)))
    env = {**os.environ, "RETROGRADE_PRINCIPAL": "t"}
    run = [*CLI, "--db", store_url]
    subprocess.run(
        [*run, "stage", "v1.yaml"], cwd=tmp_path, env=env, check=True, capture_output=True
    )
    primary, secondary = pty.openpty()
    try:
        os.write(primary, b"n\n")
        done = subprocess.run(
            [*run, "apply"],
            cwd=tmp_path,
            env=env,
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 1
    assert len(re.findall(r"\+ run +box-", done.stderr)) == 20
    assert "… and 5 more actions" in done.stderr
    assert "Plan: 25 to run, 0 to update, 0 to remove. Apply these actions? [y/N]" in done.stderr
    assert (
        json.loads(
            subprocess.run(
                [*run, "log", "--json"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["commits"]
        == []
    )
