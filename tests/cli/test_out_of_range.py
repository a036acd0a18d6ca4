"""Numbers and paths no store can use: one clear error, the right exit code, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import history, reading, transfer
from retrograde.commands import rollback as rollback_verbs
from retrograde.errors import NotFoundError
from retrograde.model.numbers import MAX_NUMBER
from retrograde.model.query import LogQuery
from tests.cli.conftest import Invoke
from tests.commands.stacks import V1, write

HUGE = "99999999999999999999"
"""Beyond 2^63 - 1: the database drivers overflow on it."""

TOO_BIG = [
    ("show", HUGE),
    ("log", "--apply", HUGE),
    ("log", "--before", HUGE),
    ("log", "--rev-from", HUGE),
    ("log", "--rev-to", HUGE),
    ("revert", HUGE),
    ("revert", "--apply", HUGE),
    ("checkpoint", "x", "--at", HUGE),
    ("applies", "--before", HUGE),
    ("export", "--since", HUGE),
    ("show", str(MAX_NUMBER + 1)),
    ("log", "--since", "99999999999d"),
    ("log", "--since", "9999999d"),
]


@pytest.fixture
def applied(invoke: Invoke, tmp_path: Path) -> Invoke:
    """A store with one apply of V1 (apply 1, revisions 1 to 4)."""
    assert invoke("apply", write(tmp_path, "v1.yaml", V1).name, "--yes").exit_code == 0
    return invoke


def _snapshot(invoke: Invoke) -> list[str]:
    verbs = ("state", "diff", "log", "applies", "checkpoints")
    return [invoke(verb, "--json").output for verb in verbs]


def _error_line(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    return line


@pytest.mark.parametrize("args", TOO_BIG, ids=" ".join)
def test_a_number_beyond_64_bits_is_a_usage_error(applied: Invoke, args: tuple[str, ...]) -> None:
    """Each verb refuses the number with exit 2 and one error line naming it; nothing changes."""
    before = _snapshot(applied)
    result = applied(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert args[-1] in _error_line(result.output)
    assert _snapshot(applied) == before


def test_the_usage_error_gives_the_range(applied: Invoke) -> None:
    """The message says what a revision or an apply id may be."""
    shown = _error_line(applied("show", HUGE).output)
    assert f"{HUGE} is not a valid revision number (1 to {MAX_NUMBER})" in shown
    apply = _error_line(applied("revert", "--apply", HUGE).output)
    assert f"{HUGE} is not a valid apply id (1 to {MAX_NUMBER})" in apply
    assert "too far from now" in _error_line(applied("log", "--since", "99999999999d").output)


def test_a_large_number_in_range_is_a_domain_error(applied: Invoke) -> None:
    """A number the CLI accepts but no commit has is one line and exit 1, up to 2^63 - 1."""
    result = applied("show", str(2**31 - 1))
    assert result.exit_code == 1
    assert result.output.strip() == f"error: unknown revision {2**31 - 1}"
    largest = applied("show", str(MAX_NUMBER))
    assert largest.exit_code == 1 and largest.output.startswith("error: ")
    assert len(largest.output.strip().splitlines()) == 1


def test_the_verbs_refuse_numbers_beyond_64_bits(ctx: retrograde.Context, tmp_path: Path) -> None:
    """API callers get a NotFoundError naming the number, never a driver overflow."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), message="v1")
    huge = int(HUGE)
    calls = [
        ("revision", lambda: reading.show(ctx, huge)),
        ("revision", lambda: rollback_verbs.revert(ctx, [huge])),
        ("apply", lambda: rollback_verbs.revert(ctx, apply_id=huge)),
        ("revision", lambda: rollback_verbs.checkpoint(ctx, "x", at=huge)),
        ("apply", lambda: history.log_page(ctx, LogQuery(apply_id=huge))),
        ("revision", lambda: history.log_page(ctx, LogQuery(before_rev=huge))),
        ("apply", lambda: history.applies(ctx, before=huge)),
        ("revision", lambda: transfer.export(ctx, tmp_path / "x.jsonl", since=huge)),
    ]
    for kind, call in calls:
        with pytest.raises(NotFoundError) as raised:
            call()
        assert (raised.value.kind, raised.value.name) == (kind, huge)
    assert retrograde.checkpoints(ctx) == [] and not (tmp_path / "x.jsonl").exists()


def test_a_time_too_far_back_is_a_value_error() -> None:
    """Durations and times beyond the years 1 to 9999 are refused, not an OverflowError."""
    now = datetime(2026, 11, 25, tzinfo=UTC)
    for text in ("99999999999d", "999999w", "0001-01-01T00:00+01:00"):
        with pytest.raises(ValueError, match="too far from now"):
            history.parse_moment(text, now)


@pytest.mark.parametrize("append", [False, True], ids=["new", "append"])
def test_export_to_a_missing_directory_is_one_line(
    applied: Invoke, tmp_path: Path, append: bool
) -> None:
    """The path and the reason in one line, exit 1, and no file left anywhere."""
    target = tmp_path / "missing" / "dir" / "x.jsonl"
    result = applied("export", "-o", str(target), *(["--append"] if append else []))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: cannot write export file '{target}': No such file or directory"
    )
    assert not (tmp_path / "missing").exists()
