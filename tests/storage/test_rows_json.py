"""Stored JSON reads back exactly what was written, whatever the number's size."""

from __future__ import annotations

import pytest

from retrograde.model.jsonvalue import parse
from retrograde.model.jsonvalue import same_json as same_value
from retrograde.storage.sql.rows import dump, load

VALUES = [
    2**63 - 1,
    2**64,
    -(2**70),
    10**30,
    {"big": [1, 2**80, {"deeper": -(10**25)}]},
    {"hash-like": "1234567890123456789012345", "n": 1.5, "t": True, "z": None},
    "é\x00\u2028",
]


@pytest.mark.parametrize("value", VALUES)
def test_round_trip_is_exact(value: object) -> None:
    """dump then load gives the same JSON value, integers beyond 64 bits included."""
    assert same_value(load(dump(value)), value)


def test_only_huge_integers_take_the_slow_exact_path() -> None:
    """Ordinary values are written plainly; one with a huge integer is marked for exact reading."""
    assert dump({"n": 2**63 - 1}) == '{"n":9223372036854775807}'
    assert dump({"n": 2**64}).startswith(" ")


@pytest.mark.parametrize("value", VALUES)
def test_snapshot_text_reads_back_exactly(value: object) -> None:
    """A snapshot's JSON (stored texts joined as written) reads back the same values."""
    text = ('{"r":{"inputs":' + dump(value) + "}}").encode()
    assert same_value(parse(text)["r"]["inputs"], value)
