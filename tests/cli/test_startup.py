"""Starting fast: ``--version`` and ``--help`` load no verb, and the verb list stays true."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from retrograde.cli.main import VERBS, cli
from tests import stacks

SLOW = ("sqlalchemy", "rich.console", "jinja2", "yaml", "retrograde.commands")
"""Modules the command line must not import before a verb needs them."""


def imported_modules(tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """The modules ``python -X importtime -m retrograde.cli.main ARGS`` imports, and its stdout."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "retrograde.cli.main", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return modules, result.stdout


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_store_console_or_templates(tmp_path: Path, flag: str) -> None:
    """``retrograde --version``/``--help`` import neither SQLAlchemy, rich's console, Jinja2,
    YAML nor any verb, and create no store."""
    modules, output = imported_modules(tmp_path, flag)
    assert "click" in modules  # the importtime report was read
    assert [m for m in modules if m.split(".")[0] in SLOW or m.startswith(SLOW)] == []
    assert output.startswith("retrograde, version" if flag == "--version" else "Usage:")
    assert not (tmp_path / ".retrograde").exists()


def test_help_lists_every_verb_with_its_own_summary() -> None:
    """The summaries ``--help`` shows without importing verbs are the verbs' own, at any width."""
    context = click.Context(cli)
    for name, verb in VERBS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name, verb.target
        listed = click.Command(name, help=verb.summary)
        for limit in (30, 60, 200):
            assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_json_read_verb_does_not_load_the_console(tmp_path: Path) -> None:
    """``log --json`` prints JSON without importing rich's console."""
    modules, output = imported_modules(
        tmp_path, "--db", f"sqlite:///{tmp_path}/s.db", "log", "--json"
    )
    assert '"commits": []' in output
    assert "sqlalchemy" in modules
    assert "rich.console" not in modules
    assert "jinja2" not in modules


READ_VERBS_NEVER = (
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "jinja2",
    "yaml",
    "zstandard",
    "retrograde.history",
    "retrograde.engine",
    "retrograde.planning.stackfile",
    "retrograde.storage.sql.output",
    "retrograde.storage.sql.tokens",
    "retrograde.storage.sql.checkpoints",
    "retrograde.storage.sql.snapshots",
)
"""What no read verb on an SQLite store needs: another database's dialect, migrations,
templates, stack files, compression (snapshots, exports), the log walk, the engine, and
the store's repositories it does not read (handler output, tokens, checkpoints, snapshots)."""

JSON_NEVER = ("rich", "retrograde.cli.render", "retrograde.cli.text")
"""What a ``--json`` form needs no more: every renderer and rich itself."""


@pytest.fixture(scope="module")
def applied_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with one applied resource (a directory and its URL), shared by the read verbs."""
    work = tmp_path_factory.mktemp("read-verbs")
    url = f"sqlite:///{work}/s.db"
    stacks.write(work, "stack.yaml", stacks.types("true") + stacks.resources(stacks.NODE1))
    for args in (["stage", "stack.yaml"], ["apply", "--yes"]):
        subprocess.run(
            [sys.executable, "-m", "retrograde.cli.main", "--db", url, *args],
            cwd=work,
            capture_output=True,
            check=True,
        )
    return work, url


def _unwanted(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize(
    "verb",
    [
        ["log", "--json"],
        ["log"],
        ["show", "1", "--json"],
        ["state", "--json"],
        ["state"],
        ["applies", "--json"],
        ["blame", "node1", "--json"],
    ],
)
def test_read_verbs_import_only_what_they_use(
    applied_store: tuple[Path, str], verb: list[str]
) -> None:
    """Read verbs load neither PostgreSQL's dialect, Alembic, Jinja2, YAML, zstd, the log
    walk nor the engine; their ``--json`` forms load no renderer and no rich."""
    work, url = applied_store
    modules, output = imported_modules(work, "--db", url, *verb)
    assert "sqlalchemy" in modules and output  # the verb ran and the report was read
    assert _unwanted(modules, READ_VERBS_NEVER) == []
    if "--json" in verb:
        assert _unwanted(modules, JSON_NEVER) == []


APPLY_WITHOUT_FILE_NEVER = (
    "jinja2",
    "yaml",
    "retrograde.planning.stackfile",
    "retrograde.handlers.shell",
)
"""What ``apply`` of the staged log needs no more than a read verb: the stack file reader, YAML
and templates (``apply FILE`` imports them to stage FILE first)."""


@pytest.mark.parametrize("verb", [["apply", "--yes"], ["apply", "--yes", "--json"]])
def test_apply_of_the_staged_log_imports_no_stack_file_reader(
    applied_store: tuple[Path, str], verb: list[str]
) -> None:
    """``apply`` without FILE (here with nothing staged) loads neither YAML, Jinja2 nor the
    stack file reader."""
    work, url = applied_store
    modules, _ = imported_modules(work, "--db", url, *verb)
    assert "retrograde.commands.applying" in modules  # the verb was loaded
    assert _unwanted(modules, APPLY_WITHOUT_FILE_NEVER) == []
