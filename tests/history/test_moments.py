"""--since/--until: what an operator types, turned into the log's timestamp form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrograde.commands.history import parse_moment

NOW = datetime(2026, 11, 25, 15, 35, 56, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("15m", "2026-11-25T15:20:56.123456Z"),
        ("2h", "2026-11-25T13:35:56.123456Z"),
        ("3d", "2026-11-22T15:35:56.123456Z"),
        ("1w", "2026-11-18T15:35:56.123456Z"),
        ("1d12h", "2026-11-24T03:35:56.123456Z"),
        ("30s", "2026-11-25T15:35:26.123456Z"),
    ],
)
def test_durations_count_back_from_now(text: str, stamp: str) -> None:
    """A duration means that long before now."""
    assert parse_moment(text, NOW) == stamp
    assert parse_moment(text, NOW, end=True) == stamp


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        (
            "2026-11-25T15:35:56.123456Z",
            "2026-11-25T15:35:56.123456Z",
            "2026-11-25T15:35:56.123456Z",
        ),
        ("2026-11-25 15:35:56", "2026-11-25T15:35:56.000000Z", "2026-11-25T15:35:56.999999Z"),
        ("2026-11-25T15:35", "2026-11-25T15:35:00.000000Z", "2026-11-25T15:35:59.999999Z"),
        ("2026-11-25T15", "2026-11-25T15:00:00.000000Z", "2026-11-25T15:59:59.999999Z"),
        ("2026-11-25", "2026-11-25T00:00:00.000000Z", "2026-11-25T23:59:59.999999Z"),
        ("2026-11-25T16:35:56+01:00", "2026-11-25T15:35:56.000000Z", "2026-11-25T15:35:56.999999Z"),
    ],
)
def test_times_are_utc_and_cover_what_they_name_as_an_end(text: str, start: str, end: str) -> None:
    """A written time is UTC unless it says otherwise; as an end it covers its whole second,
    minute, hour or day."""
    assert parse_moment(text, NOW) == start
    assert parse_moment(text, NOW, end=True) == end


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-3d", "", "2026-13-01"])
def test_anything_else_is_refused(text: str) -> None:
    """Text that is neither a duration nor an ISO 8601 time is a ValueError saying both forms."""
    with pytest.raises(ValueError, match="duration"):
        parse_moment(text, NOW)
