"""The files an action's handler uses, and their digests, so a worker can check its copy.

A worker runs handlers in its own checkout of the stack directory (``--root``).
The coordinator sends, with each request, the SHA-256 of every handler file it
can see under the stack's directory: the type's ``files:`` (which include the
file that defines the type, when that is an included file) and the files the
handler's target names by relative path (``./deploy.sh``, ``playbooks/site.yml``,
the module of ``python: tasks:run`` when it is a file there). The worker hashes
the same names under its root and refuses the action, naming the first file
that differs, when any does. Absolute paths are never hashed: they are the
machine's own, not the stack's.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from retrograde.model.apply import ActionRequest
from retrograde.model.types import COMMAND, decode_argv

_TOKEN = re.compile(r"[^\s'\"`;|&<>(){}$=,]+")
"""Words of a shell command that may be file names (quotes and operators split them)."""


def handler_file_names(request: ActionRequest) -> list[str]:
    """Relative names the request's handler may read: its type's files, then its target's."""
    names = [*request.get("files", ()), *_target_names(request["handler"], request["target"])]
    return list(dict.fromkeys(name for name in names if _relative(name)))


def digests(base: Path, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each of ``names`` that is a regular file under ``base`` (others are left out)."""
    found: dict[str, str] = {}
    for name in names:
        digest = file_digest(base, name)
        if digest is not None:
            found[name] = digest
    return found


def file_digest(base: Path, name: str) -> str | None:
    """SHA-256 of ``base/name``; None when it is not a regular file inside ``base``."""
    path = base / name
    try:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(os.path.realpath(base)) or not real.is_file():
            return None
        with real.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def first_difference(base: Path, expected: Mapping[str, str]) -> str | None:
    """Why the files under ``base`` differ from ``expected`` (the first that does), or None."""
    for name, digest in sorted(expected.items()):
        mine = file_digest(base, name)
        if mine is None:
            return f"handler file {name!r} is missing under {base}"
        if mine != digest:
            return (
                f"handler file {name!r} under {base} differs from the coordinator's copy "
                f"(sha256 {mine[:12]} here, {digest[:12]} there)"
            )
    return None


def _target_names(handler: str, target: str) -> list[str]:
    if handler == COMMAND:
        return decode_argv(target)
    if handler == "python":
        module = target.partition(":")[0]
        return [module.replace(".", "/") + ".py"]
    return _TOKEN.findall(target)


def _relative(name: str) -> bool:
    """A name that may be a file inside the stack's directory (never absolute, never ``..``)."""
    return bool(name) and not name.startswith(("/", "-", "~")) and ".." not in name.split("/")
