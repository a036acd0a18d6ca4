"""Fuzzing import: a mutated real export is imported whole or refused in one line.

Mutations of ``tests/data/demo-export.jsonl.zst`` (decompressed): flipped
bytes, lines cut short or dropped or duplicated, numbers made huge, values
nested thousands deep, fields given the wrong kind. Each file, plain or
recompressed, goes to ``transfer.import_`` on a real SQLite store: the
outcome is a report, or a :class:`RetrogradeError` whose message is one line,
with the store left empty; never another exception, never a slow example.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retrograde
from retrograde.commands import transfer
from retrograde.errors import RetrogradeError
from tests import store_calls

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=int(os.environ.get("RETROGRADE_FUZZ_EXAMPLES", "120")),
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Bounded so the module runs in about ten seconds; raise RETROGRADE_FUZZ_EXAMPLES to dig."""

EXPORT = Path(__file__).resolve().parent.parent / "data" / "demo-export.jsonl.zst"
LINES = (
    zstandard.ZstdDecompressor()
    .stream_reader(EXPORT.read_bytes(), read_across_frames=True)
    .read()
    .splitlines(keepends=True)
)
ODD_VALUES = [
    None,
    True,
    -1,
    2**64,
    10**4000,
    1.5,
    "x",
    "\x00\ud7ff",
    [],
    {},
    [1, [2]],
    {"from": 1},
]
RAW_NUMBERS = [b"9" * 5000, b"1e999", b"-1e999", b"NaN", b"Infinity", b"1" + b"0" * 30]


def flip(lines: list[bytes], at: int, byte: int) -> list[bytes]:
    data = bytearray(b"".join(lines))
    data[at % len(data)] ^= byte or 1
    return bytes(data).splitlines(keepends=True)


def cut(lines: list[bytes], line: int, keep: int) -> list[bytes]:
    line %= len(lines)
    return [*lines[:line], lines[line][: keep % max(1, len(lines[line]))], *lines[line + 1 :]]


def duplicate(lines: list[bytes], line: int) -> list[bytes]:
    line %= len(lines)
    return [*lines[: line + 1], lines[line], *lines[line + 1 :]]


def drop(lines: list[bytes], line: int) -> list[bytes]:
    line %= len(lines)
    return [*lines[:line], *lines[line + 1 :]]


def retype(lines: list[bytes], line: int, key: int, value: object) -> list[bytes]:
    """Give one field of a record (at the top or one level down) another kind of value."""
    line %= len(lines)
    try:
        record = json.loads(lines[line])
    except (ValueError, RecursionError):
        return lines  # an earlier mutation broke (or buried) the line already
    if not isinstance(record, dict) or not record:
        return lines
    target = record
    nested = [k for k, v in record.items() if isinstance(v, dict) and v]
    if nested and key % 2:
        target = record[nested[key % len(nested)]]
    name = sorted(target)[key % len(target)]
    target[name] = value
    text = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return [*lines[:line], text + b"\n", *lines[line + 1 :]]


def huge_number(lines: list[bytes], line: int, number: bytes) -> list[bytes]:
    line %= len(lines)
    text = lines[line]
    for old in (b'"rev":', b'"version":', b'"after_rev":', b'"id":'):
        if old in text:
            head, _, rest = text.partition(old)
            digits = len(rest) - len(rest.lstrip(b"-0123456789"))
            return [*lines[:line], head + old + number + rest[digits:], *lines[line + 1 :]]
    return lines


def deep(lines: list[bytes], line: int, depth: int) -> list[bytes]:
    line %= len(lines)
    nested = b"[" * depth + b"]" * depth
    text = lines[line].replace(b'"diff":{', b'"diff":{"deep":' + nested + b",", 1)
    if text == lines[line]:
        text = lines[line].rstrip(b"}\n") + b',"deep":' + nested + b"}\n"
    return [*lines[:line], text, *lines[line + 1 :]]


INDEX = st.integers(min_value=0, max_value=10_000)
MUTATIONS = st.one_of(
    st.builds(lambda a, b: lambda ls: flip(ls, a, b), INDEX, st.integers(0, 255)),
    st.builds(lambda a, b: lambda ls: cut(ls, a, b), INDEX, INDEX),
    st.builds(lambda a: lambda ls: duplicate(ls, a), INDEX),
    st.builds(lambda a: lambda ls: drop(ls, a), INDEX),
    st.builds(
        lambda a, b, v: lambda ls: retype(ls, a, b, v), INDEX, INDEX, st.sampled_from(ODD_VALUES)
    ),
    st.builds(lambda a, n: lambda ls: huge_number(ls, a, n), INDEX, st.sampled_from(RAW_NUMBERS)),
    st.builds(lambda a, d: lambda ls: deep(ls, a, d), INDEX, st.sampled_from([50, 2000, 100_000])),
)


class Stores:
    """An empty store reused across examples (a failed import leaves it empty), renewed
    after an import that succeeded."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.number = 0
        self.ctx = self._open()

    def _open(self) -> retrograde.Context:
        self.number += 1
        url = f"sqlite:///{self.work / f'store{self.number}' / 'state.db'}"
        return retrograde.open_context(url, cwd=self.work)

    def renew(self) -> None:
        self.ctx.store.close()
        self.ctx = self._open()


@pytest.fixture(scope="module")
def stores() -> Iterator[Stores]:
    with tempfile.TemporaryDirectory() as directory:
        opened = Stores(Path(directory))
        yield opened
        opened.ctx.store.close()


@FUZZ
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3), compressed=st.booleans())
def test_a_mutated_export_is_imported_or_refused_in_one_line(
    stores: Stores, mutations: list[object], compressed: bool
) -> None:
    work = stores.work
    lines = list(LINES)
    for mutate in mutations:
        lines = mutate(lines)  # type: ignore[operator]
    data = b"".join(lines)
    name = "fuzz.jsonl.zst" if compressed else "fuzz.jsonl"
    if compressed:
        data = zstandard.ZstdCompressor().compress(data)
    (work / name).write_bytes(data)
    ctx = stores.ctx
    try:
        transfer.import_(ctx, Path(name))
    except RetrogradeError as error:
        assert "\n" not in str(error), str(error)
        assert store_calls.head(ctx.store)[0] == 0
        assert store_calls.load_state(ctx.store) == {}
        assert retrograde.checkpoints(ctx) == []
    else:
        assert retrograde.verify(ctx).ok
        stores.renew()
