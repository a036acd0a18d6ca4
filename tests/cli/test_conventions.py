"""Conventions every verb keeps: how errors look (text and JSON), where global options go,
--db as a path, times with their zone, no colour on request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from retrograde.cli.main import cli
from tests.cli.conftest import Invoke
from tests.commands.stacks import V1, write

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")
ESCAPE = "\x1b["


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """``retrograde ARGS`` in the current directory, stdout and stderr apart."""
    return CliRunner().invoke(cli, list(args), env=env, prog_name="retrograde")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the current directory, with the test stack in it, as ``tester``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETROGRADE_PRINCIPAL", "tester")
    monkeypatch.delenv("RETROGRADE_DB", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    write(tmp_path, "v1.yaml", V1)
    return tmp_path


def test_a_not_found_error_under_json_is_json_on_stdout(invoke: Invoke) -> None:
    """show 99 --json: {"error": {kind, message, what, name}} on stdout, exit 1, stderr empty."""
    result = invoke("show", "99", "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "error": {
            "kind": "not_found_error",
            "message": "unknown revision 99",
            "what": "revision",
            "name": 99,
        }
    }


def test_a_domain_error_under_json_carries_its_structured_fields(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A stack naming an unknown input: kind, location, resource and input, as fields."""
    write(tmp_path, "bad.yaml", V1.replace("${keystone1.ip}", "${keystone1.nope}"))
    result = invoke("stage", "bad.yaml", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "unknown_reference_error"
    assert (error["resource"], error["input"]) == ("keystone1", "nope")
    assert error["location"].startswith("bad.yaml:")
    assert error["message"].startswith(error["location"])


def test_global_json_before_the_verb_also_makes_errors_json(invoke: Invoke) -> None:
    """retrograde --json show 99 answers as show 99 --json does."""
    assert invoke("--json", "show", "99").stdout == invoke("show", "99", "--json").stdout


def test_a_usage_error_is_one_error_line_and_exit_2(invoke: Invoke) -> None:
    """An unknown option, a bad value and an unknown verb: one `error:` line, no usage block."""
    for args in (("log", "--bogus"), ("log", "--limit", "0"), ("bogus",), ("show",)):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ") and "--help" in line, line
        assert "Usage:" not in result.stderr


def test_a_usage_error_under_json_is_json_and_exit_2(invoke: Invoke) -> None:
    """log --limit 0 --json: kind usage_error naming the command and the option."""
    result = invoke("log", "--limit", "0", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage_error"
    assert error["param"] == "--limit"
    assert error["command"].endswith(" log")
    assert "0" in error["message"]
    unknown = json.loads(invoke("log", "--json", "--bogus").stdout)["error"]
    assert (unknown["kind"], unknown["param"]) == ("usage_error", "--bogus")


def test_db_takes_a_plain_relative_or_absolute_path(
    here: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """--db ./state.db and --db /abs/x.db are SQLite files, created where they say."""
    assert run("--db", "./state.db", "apply", "v1.yaml", "--yes").exit_code == 0
    assert (here / "state.db").is_file()
    assert not (here / ".retrograde").exists()
    log = json.loads(run("--db", "state.db", "log", "--json").stdout)["commits"]
    assert [c["rev"] for c in log] == [4, 3, 2, 1]
    elsewhere = tmp_path_factory.mktemp("abs") / "x.db"
    assert run("--db", str(elsewhere), "state").exit_code == 0
    assert elsewhere.is_file()


def test_retrograde_db_takes_a_plain_path_too(here: Path) -> None:
    """RETROGRADE_DB=env.db names the SQLite file env.db here."""
    assert run("apply", "v1.yaml", "--yes", env={"RETROGRADE_DB": "env.db"}).exit_code == 0
    assert (here / "env.db").is_file()


def test_global_options_are_accepted_after_the_verb(here: Path) -> None:
    """apply --db x.db --principal alice, log --db x.db: the same store, the same principal."""
    applied = run("apply", "v1.yaml", "--yes", "--db", "x.db", "--principal", "alice")
    assert applied.exit_code == 0, applied.output
    assert (here / "x.db").is_file() and not (here / ".retrograde").exists()
    log = json.loads(run("log", "--db", "x.db", "--json").stdout)["commits"]
    assert {c["principal"] for c in log} == {"alice"}
    assert run("checkpoint", "v1", "--db", "x.db", "--principal", "bob").exit_code == 0
    listed = json.loads(run("--db", "x.db", "checkpoints", "--json").stdout)["checkpoints"]
    assert [(c["name"], c["principal"]) for c in listed] == [("v1", "bob")]


def test_after_the_verb_wins_and_log_principal_still_filters(here: Path) -> None:
    """--db after the verb overrides the one before it; log's own --principal is a filter."""
    run("--principal", "carol", "--db", "a.db", "apply", "v1.yaml", "--yes")
    assert json.loads(run("--db", "b.db", "log", "--db", "a.db", "--json").stdout)["commits"]
    assert not json.loads(run("--db", "a.db", "log", "--principal", "dave", "--json").stdout)[
        "commits"
    ]
    assert not (here / "b.db").exists()


def test_text_times_carry_their_zone(here: Path) -> None:
    """log, applies, checkpoints and blame print times as 2026-11-25 15:35:56Z."""
    run("apply", "v1.yaml", "--yes", "-m", "first")
    run("checkpoint", "v1")
    for args in (("log",), ("applies",), ("checkpoints",), ("blame", "node1")):
        output = run(*args).stdout
        assert STAMP.search(output), (args, output)
        assert not re.search(r"\d\d:\d\d:\d\d(?![Z.\d])", output), (args, output)


def test_no_color_and_NO_COLOR_write_no_escape_codes(here: Path) -> None:
    """With colour forced on, output has escape codes, unless --no-color (either side of the
    verb) or NO_COLOR is set."""
    colour = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    run("apply", "v1.yaml", "--yes")
    assert ESCAPE in run("log", env=colour).stdout  # the test can fail
    assert ESCAPE in run("show", "99", env=colour).stderr
    for args, env in (
        (("--no-color", "log"), colour),
        (("log", "--no-color"), colour),
        (("log",), {**colour, "NO_COLOR": "1"}),
    ):
        result = run(*args, env=env)
        assert result.exit_code == 0 and "haproxy" in result.stdout
        assert ESCAPE not in result.stdout, args
    for args, env in ((("--no-color", "show", "99"), colour), (("show", "99"), {"NO_COLOR": "1"})):
        failed = run(*args, env=env)
        assert (
            failed.stderr.startswith("error: unknown revision 99") and ESCAPE not in failed.stderr
        )
