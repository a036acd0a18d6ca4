"""Hostile stack files, written for real into a directory: what an attacker would feed us.

Each builder writes ``stack/stack.yaml`` (and whatever it needs around it) under
the directory it is given and returns the stack file plus a text the one-line
error must contain. Every file sits next to a secret it must never quote.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

SECRET = "root:$6$SECRET-HASH-FIRST-LINE:19000:0:99999:7:::"
"""The first line of the file outside the stack's tree; no error may show it."""

TYPES = """\
types:
  web:
    version: 1
    inputs:
      port: {type: integer, default: 80}
      data: {type: any, default: null}
"""

Hostile = Callable[[Path], tuple[Path, str]]


def _stack(root: Path, text: str) -> Path:
    """``root/stack/stack.yaml`` holding ``text``, with ``root/outside/secret.yaml`` beside it."""
    (root / "outside").mkdir(exist_ok=True)
    (root / "outside" / "secret.yaml").write_text(SECRET + "\n", encoding="utf-8")
    (root / "stack").mkdir(exist_ok=True)
    path = root / "stack" / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def include_dev_zero(root: Path) -> tuple[Path, str]:
    return _stack(root, "include: [/dev/zero]\n"), "'/dev/zero'"


def include_parent_escape(root: Path) -> tuple[Path, str]:
    return _stack(root, "include: [../outside/secret.yaml]\n"), "outside the stack's directory"


def include_absolute_outside(root: Path) -> tuple[Path, str]:
    secret = root / "outside" / "secret.yaml"
    return _stack(root, f"include: ['{secret}']\n"), "outside the stack's directory"


def include_etc_passwd(root: Path) -> tuple[Path, str]:
    return _stack(root, "include: [/etc/passwd]\n"), "outside the stack's directory"


def include_symlink_out(root: Path) -> tuple[Path, str]:
    path = _stack(root, "include: [types.yaml]\n")
    (path.parent / "types.yaml").symlink_to(root / "outside" / "secret.yaml")
    return path, "outside the stack's directory"


def include_nested_escape(root: Path) -> tuple[Path, str]:
    """An allowed include that itself reaches out of the tree is refused at its own entry."""
    path = _stack(root, "include: [lib/a.yaml]\n")
    (path.parent / "lib").mkdir()
    (path.parent / "lib" / "a.yaml").write_text("include: [../../outside/secret.yaml]\n")
    return path, "lib/a.yaml:1:11"


def include_fifo(root: Path) -> tuple[Path, str]:
    path = _stack(root, "include: [pipe.yaml]\n")
    os.mkfifo(path.parent / "pipe.yaml")
    return path, "not a regular file"


def include_directory(root: Path) -> tuple[Path, str]:
    path = _stack(root, "include: [types]\n")
    (path.parent / "types").mkdir()
    return path, "not a regular file"


def include_nul_byte(root: Path) -> tuple[Path, str]:
    return _stack(root, 'include: ["types\\0.yaml"]\n'), "not a usable file name"


def include_symlink_loop(root: Path) -> tuple[Path, str]:
    path = _stack(root, "include: [loop.yaml]\n")
    (path.parent / "loop.yaml").symlink_to(path.parent / "loop.yaml")
    return path, "symbolic links"


def alias_bomb(root: Path) -> tuple[Path, str]:
    """The billion laughs: 9 levels of 10 aliases each, 10^9 nodes once expanded."""
    lines = ['        a0: &a0 ["lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"        a{level}: &a{level} [{refs}]")
    text = TYPES + "resources:\n  w:\n    type: web\n    inputs:\n      data:\n"
    text += "\n".join(lines) + "\n"
    return _stack(root, text), "alias"


def big_integer(root: Path) -> tuple[Path, str]:
    digits = "9" * 5000
    text = TYPES + f"resources:\n  w: {{type: web, inputs: {{port: {digits}}}}}\n"
    return _stack(root, text), "input w.port"


def big_default(root: Path) -> tuple[Path, str]:
    text = TYPES.replace("default: 80", f"default: {2**64}")
    return _stack(root, text), "types.web.inputs.port.default"


def deep_nesting(root: Path) -> tuple[Path, str]:
    depth = 100_000
    text = TYPES + "resources:\n  w: {type: web, inputs: {data: " + "[" * depth + "]" * depth
    return _stack(root, text + "}}\n"), "nest"


def deep_nesting_within_parser(root: Path) -> tuple[Path, str]:
    """Deep enough to break recursive code, shallow enough for libyaml's own limit."""
    depth = 900
    text = TYPES + "resources:\n  w: {type: web, inputs: {data: " + "[" * depth + "]" * depth
    return _stack(root, text + "}}\n"), "nest"


def bad_int_tag(root: Path) -> tuple[Path, str]:
    text = TYPES + "resources:\n  w: {type: web, inputs: {port: !!int eighty}}\n"
    return _stack(root, text), "!!int"


def control_characters_in_names(root: Path) -> tuple[Path, str]:
    name = '"we\\nb\\r\\x1b[31m"'
    text = f"types:\n  {name}:\n    version: 1\n    inputs: {{p: {{type: integer, default: x}}}}\n"
    return _stack(root, text), "must be integer"


HOSTILE: dict[str, Hostile] = {
    builder.__name__: builder
    for builder in (
        include_dev_zero,
        include_parent_escape,
        include_absolute_outside,
        include_etc_passwd,
        include_symlink_out,
        include_nested_escape,
        include_fifo,
        include_directory,
        include_nul_byte,
        include_symlink_loop,
        alias_bomb,
        big_integer,
        big_default,
        deep_nesting,
        deep_nesting_within_parser,
        bad_int_tag,
        control_characters_in_names,
    )
}
