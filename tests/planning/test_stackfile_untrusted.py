"""Untrusted stack files: refused in one line, quickly, without reading what they must not."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from retrograde.commands.stackfiles import read_stack
from retrograde.errors import IncludeError, IntegerRangeError, StackError, StackLimitError
from tests.planning.hostile import HOSTILE, SECRET, TYPES

TYPE_FILE = "types:\n  extra: {version: 1, inputs: {x: {type: string}}}\n"


def refused(path: Path, error: type[StackError] = StackError, **options: object) -> StackError:
    """The one error ``read_stack`` raises for ``path``, checked to be one line."""
    with pytest.raises(error) as info:
        read_stack(path, **options)  # type: ignore[arg-type]
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return info.value


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_one_line_fast_and_quotes_nothing(tmp_path: Path, case: str) -> None:
    """Every hostile file gives one located line within seconds and never shows the secret."""
    path, expected = HOSTILE[case](tmp_path)
    started = time.monotonic()
    error = refused(path)
    assert time.monotonic() - started < 5
    message = str(error)
    assert expected in message
    assert message.startswith(str(path.parent)), message
    assert error.location is not None and error.location.count(":") >= 2
    assert SECRET not in message and "SECRET-HASH" not in message
    assert "root:x:0:0" not in message


def test_refused_include_names_the_including_file_and_the_entry(tmp_path: Path) -> None:
    """The refusal points at the include entry (file:line:col) and names it as written."""
    path, _ = HOSTILE["include_parent_escape"](tmp_path)
    error = refused(path, IncludeError)
    assert error.location == f"{path}:1:11"
    assert isinstance(error, IncludeError)
    assert error.include == "../outside/secret.yaml"
    assert "--allow-include" in error.problem


def _outside_types(tmp_path: Path) -> Path:
    stack = tmp_path / "stack" / "stack.yaml"
    stack.parent.mkdir()
    common = tmp_path / "common"
    common.mkdir()
    (common / "types.yaml").write_text(TYPE_FILE, encoding="utf-8")
    stack.write_text("include: [../common/types.yaml]\n", encoding="utf-8")
    return stack


def test_allow_include_admits_another_directory(tmp_path: Path) -> None:
    """A directory named by allow_include may be included from, even through ``..``."""
    stack = _outside_types(tmp_path)
    refused(stack, IncludeError)
    assert "extra" in read_stack(stack, allow_include=[tmp_path / "common"]).types


def test_allow_include_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RETROGRADE_ALLOW_INCLUDE is a path list of directories allowed as well."""
    stack = _outside_types(tmp_path)
    monkeypatch.setenv(
        "RETROGRADE_ALLOW_INCLUDE", os.pathsep.join(["/nowhere", str(tmp_path / "common")])
    )
    assert "extra" in read_stack(stack).types


def test_allowed_directory_still_takes_only_regular_files(tmp_path: Path) -> None:
    """Allowing /dev does not make a device includable."""
    path, _ = HOSTILE["include_dev_zero"](tmp_path)
    error = refused(path, IncludeError, allow_include=[Path("/dev")])
    assert "not a regular file" in error.problem


def test_symlink_within_the_tree_is_followed(tmp_path: Path) -> None:
    """A symlink whose target stays inside the stack's tree is an ordinary include."""
    stack = tmp_path / "stack.yaml"
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "types.yaml").write_text(TYPE_FILE, encoding="utf-8")
    (tmp_path / "types.yaml").symlink_to(tmp_path / "real" / "types.yaml")
    stack.write_text("include: [types.yaml]\n", encoding="utf-8")
    assert "extra" in read_stack(stack).types


def test_stack_directory_reached_through_a_symlink_is_the_tree(tmp_path: Path) -> None:
    """The tree is the stack's real directory, so a symlinked checkout still includes its files."""
    (tmp_path / "checkout").mkdir()
    (tmp_path / "checkout" / "types.yaml").write_text(TYPE_FILE, encoding="utf-8")
    (tmp_path / "checkout" / "stack.yaml").write_text("include: [types.yaml]\n", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "checkout")
    assert "extra" in read_stack(tmp_path / "link" / "stack.yaml").types


# --- size limits ----------------------------------------------------------------------------


def test_stack_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    """A stack file one byte over the limit is refused; one at the limit is read."""
    text = TYPES + "#" * 10 + "\n"
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_stack(path, max_bytes=len(text)).types
    error = refused(path, StackLimitError, max_bytes=len(text) - 1)
    assert error.location == str(path)
    assert f"larger than the limit of {len(text) - 1} bytes" in error.problem


def test_limit_from_the_environment_bounds_a_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RETROGRADE_MAX_STACK_BYTES bounds what is read, even of an endless device."""
    monkeypatch.setenv("RETROGRADE_MAX_STACK_BYTES", "4096")
    error = refused(Path("/dev/zero"), StackLimitError)
    assert "larger than the limit of 4096 bytes" in error.problem


def test_included_file_over_the_limit_is_refused_at_its_entry(tmp_path: Path) -> None:
    """An include over the limit is refused before being read, naming the entry."""
    stack = tmp_path / "stack.yaml"
    stack.write_text("include: [big.yaml]\n", encoding="utf-8")
    (tmp_path / "big.yaml").write_text(TYPE_FILE + "#" * 200 + "\n", encoding="utf-8")
    error = refused(stack, IncludeError, max_bytes=100)
    assert error.location == f"{stack}:1:11"
    assert "larger than the limit of 100 bytes" in error.problem


def test_include_that_is_not_utf8_quotes_no_byte(tmp_path: Path) -> None:
    """A binary include is refused without echoing its bytes."""
    stack = tmp_path / "stack.yaml"
    stack.write_text("include: [bin.yaml]\n", encoding="utf-8")
    (tmp_path / "bin.yaml").write_bytes(b"\xfe\xedSECRET")
    error = refused(stack, IncludeError)
    assert "not UTF-8 text" in error.problem
    assert "0xfe" not in str(error) and "SECRET" not in str(error)


# --- aliases and nesting --------------------------------------------------------------------


def test_alias_bomb_is_refused_at_the_alias(tmp_path: Path) -> None:
    """The expansion limit names the file, line and column of the alias that crossed it."""
    path, _ = HOSTILE["alias_bomb"](tmp_path)
    error = refused(path, StackLimitError)
    line = int(str(error.location).split(":")[-2])
    assert path.read_text().splitlines()[line - 1].lstrip().startswith("a")
    assert "expands" in error.problem


def test_ordinary_aliasing_is_accepted(tmp_path: Path) -> None:
    """Sharing one anchored value among many resources stays within the expansion limit."""
    shared = "&common {port: 1, data: {a: [1, 2, 3], b: {c: d}}}"
    body = "".join(f"  w{i}: {{type: web, inputs: *common}}\n" for i in range(5000))
    path = tmp_path / "stack.yaml"
    path.write_text(TYPES + f"resources:\n  w: {{type: web, inputs: {shared}}}\n" + body)
    assert len(read_stack(path).resources) == 5001


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path) -> None:
    """A value nested 100 levels deep inside an input is an ordinary value."""
    depth = 100
    path = tmp_path / "stack.yaml"
    path.write_text(
        TYPES + "resources:\n  w: {type: web, inputs: {data: " + "[" * depth + "]" * depth + "}}\n"
    )
    value = read_stack(path).resources["w"].inputs["data"]
    for _ in range(depth - 1):
        assert isinstance(value, list)
        value = value[0]
    assert value == []


def test_aliased_deep_value_counts_its_depth(tmp_path: Path) -> None:
    """An alias of a deep value placed deep again is refused like written-out nesting."""
    deep = "[" * 100 + "]" * 100
    again = "[" * 100 + "*d" + "]" * 100
    text = TYPES + f"resources:\n  w: {{type: web, inputs: {{data: [&d {deep}, {again}]}}}}\n"
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    error = refused(path, StackLimitError)
    assert "nest" in error.problem


# --- integers -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0])
def test_integers_within_64_bits_are_accepted(tmp_path: Path, value: int) -> None:
    """The signed 64-bit range is accepted up to both ends."""
    path = tmp_path / "stack.yaml"
    path.write_text(TYPES + f"resources:\n  w: {{type: web, inputs: {{port: {value}}}}}\n")
    assert read_stack(path).resources["w"].inputs["port"] == value


@pytest.mark.parametrize(
    "written", [str(2**63), str(-(2**63) - 1), "9" * 4301, "0x" + "f" * 17, "1" * 5000]
)
def test_integers_outside_64_bits_name_resource_and_input(tmp_path: Path, written: str) -> None:
    """Out of range (also beyond Python's digit limit) is one line naming resource.input."""
    path = tmp_path / "stack.yaml"
    path.write_text(TYPES + f"resources:\n  w: {{type: web, inputs: {{port: {written}}}}}\n")
    error = refused(path, IntegerRangeError)
    assert isinstance(error, IntegerRangeError)
    assert (error.resource, error.input) == ("w", "port")
    assert error.location == f"{path}:{TYPES.count(chr(10)) + 2}:33"
    assert "input w.port" in error.problem and "signed 64-bit range" in error.problem
    assert len(error.problem) < 200


def test_integer_deep_in_an_input_still_names_the_input(tmp_path: Path) -> None:
    """An integer inside a list inside an input names the input it sits in."""
    path = tmp_path / "stack.yaml"
    path.write_text(
        TYPES + f"resources:\n  w: {{type: web, inputs: {{data: [1, {{k: {2**70}}}]}}}}\n"
    )
    error = refused(path, IntegerRangeError)
    assert "input w.data" in error.problem


def test_integer_elsewhere_names_its_path(tmp_path: Path) -> None:
    """Outside resource inputs (a tag, a version) the error names the file position and path."""
    path = tmp_path / "stack.yaml"
    path.write_text(TYPES + f"resources:\n  w: {{type: web, tags: {{rack: {2**64}}}}}\n")
    error = refused(path, IntegerRangeError)
    assert "resources.w.tags.rack" in error.problem


@pytest.mark.parametrize("written", ["!!int eighty", "!!float x", "!!bool maybe", "0b_", "!!int"])
def test_unreadable_tagged_scalar_is_a_syntax_error(tmp_path: Path, written: str) -> None:
    """A scalar its tag (or its form) cannot convert is one located line, not a traceback."""
    path = tmp_path / "stack.yaml"
    path.write_text(TYPES + f"resources:\n  w: {{type: web, inputs: {{data: {written}}}}}\n")
    error = refused(path)
    assert error.location is not None and error.location.startswith(f"{path}:")
