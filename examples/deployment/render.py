#!/usr/bin/env python3
"""Render one configuration file for a retrograde ``shell`` handler.

Usage (from a stack file's command template, run in the stack's directory)::

    python3 render.py TEMPLATE OUTPUT [--replaces OLD_OUTPUT]
    python3 render.py --read-bind OUTPUT

The handler's context arrives as one JSON document on stdin:
``{"action", "resource", "type", "inputs", "previous", "diff", "apply_id"}``.

- ``run`` and ``update`` render TEMPLATE (Jinja2, with the context's keys as
  variables) and write OUTPUT atomically, creating its parent directories. An
  update whose resource moved (``--replaces`` names a different path) deletes
  the old file afterwards.
- ``remove`` deletes OUTPUT; TEMPLATE is not read.

- ``--read-bind`` is a ``read`` action: it prints the address and port of the
  file's ``bind`` line as the resource's observed inputs, one JSON object
  (``{"ip": "10.20.0.3", "port": 80}``), so ``retrograde refresh`` sees a
  hand edit of it.

Every action is idempotent, since an interrupted apply re-runs the action that
was in flight. A removed file's directory goes too once it is empty, so
removing a node's last file removes the node's directory. Errors are one line
on stderr and a non-zero exit code, which fails the action.

Needs only Jinja2 and the standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2

ACTIONS = ("run", "update", "remove")
FILE_MODE = 0o640
"""Rendered files may hold passwords: readable by owner and group only."""


class RenderError(Exception):
    """A failure worth one line on stderr."""


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["--read-bind"] and len(given) == 2:
        return read_bind(Path(given[1]))
    args = _parse_args(given)
    try:
        context = read_context(sys.stdin.read())
        message = perform(context, Path(args.template), _path(args.output), args.replaces)
    except RenderError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def read_bind(output: Path) -> int:
    """Print ``{"ip", "port"}`` of the first ``bind IP:PORT`` line of ``output``."""
    try:
        lines = output.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        print(f"render.py: cannot read {output}: {exc.strerror}", file=sys.stderr)
        return 1
    for line in lines:
        words = line.split()
        if len(words) == 2 and words[0] == "bind" and ":" in words[1]:
            ip, _, port = words[1].rpartition(":")
            if port.isdigit():
                print(json.dumps({"ip": ip, "port": int(port)}))
                return 0
    print(f"render.py: no 'bind IP:PORT' line in {output}", file=sys.stderr)
    return 1


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Render a config file from a handler context.")
    parser.add_argument("template", help="Jinja2 template, e.g. templates/keystone.conf.j2")
    parser.add_argument("output", help="file to write (run/update) or delete (remove)")
    parser.add_argument("--replaces", help="the file's previous path, deleted if it moved")
    return parser.parse_args(argv)


def read_context(text: str) -> dict[str, Any]:
    """Parse the handler's stdin document and check the fields this script relies on."""
    try:
        context = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RenderError(f"stdin is not the handler's JSON context: {exc}") from exc
    if not isinstance(context, dict) or context.get("action") not in ACTIONS:
        raise RenderError(f"stdin context needs an action among {', '.join(ACTIONS)}")
    return context


def perform(context: dict[str, Any], template: Path, output: Path, replaces: str | None) -> str:
    """Carry out the context's action; return a one-line report for stdout."""
    if context["action"] == "remove":
        return f"removed {output}" if remove(output) else f"{output} already absent"
    write_atomically(output, render(template, context))
    if replaces and _path(replaces) != output:
        remove(_path(replaces))
        return f"rendered {output} (moved from {replaces})"
    return f"rendered {output}"


def render(template: Path, context: dict[str, Any]) -> str:
    """Render ``template`` with the context; a missing input is an error, not an empty string."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent or ".")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        return env.get_template(template.name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {template}") from exc
    except jinja2.TemplateError as exc:
        raise RenderError(f"cannot render {template}: {exc}") from exc


def write_atomically(output: Path, text: str) -> None:
    """Write via a temporary file in the same directory and rename, so readers never
    see half a file and a crash leaves either the old or the new content."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, output)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise RenderError(f"cannot write {output}: {exc}") from exc


def remove(output: Path) -> bool:
    """Delete ``output`` and then its directory if that is left empty; False if already gone."""
    try:
        output.unlink()
    except FileNotFoundError:
        existed = False
    except OSError as exc:
        raise RenderError(f"cannot remove {output}: {exc}") from exc
    else:
        existed = True
    if output.parent != Path("."):
        # Not empty (other resources live there) or already gone: keep going.
        with contextlib.suppress(OSError):
            output.parent.rmdir()
    return existed


def _path(text: str) -> Path:
    """An output path; an empty component means the command referred to a missing input."""
    if not text or text.endswith("/") or "//" in text:
        raise RenderError(f"output path {text!r} has an empty part: is an input missing?")
    return Path(text)


if __name__ == "__main__":
    sys.exit(main())
