"""Uploaded stack directories, written where the server says and nowhere else.

``POST /api/stage`` receives a stack directory's files (multipart, or a JSON
object ``{path: content}``). They are written to a new private directory
(0700, files 0600) inside the server's stacks root, which the directory then
stays in: the stack's handlers run in its directory when the staged changes
are applied. A path is refused (400, naming it) unless it is relative, made of
plain names (no ``..``, no empty part, no NUL or backslash) and short; no file
is followed through a link or written twice; the total size and the number of
files are bounded before anything is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from retrograde.server.errors import BadRequest
from retrograde.server.settings import ServerSettings

STACK_NAMES = ("stack.yaml", "stack.yml")
MAX_PATH = 500
MAX_DEPTH = 20


def checked_path(name: str) -> PurePosixPath:
    """``name`` as a safe relative path, else :class:`BadRequest` naming it."""
    shown = repr(name[:MAX_PATH])
    if not name or len(name) > MAX_PATH or "\x00" in name or "\\" in name:
        raise BadRequest(f"file path {shown} is not a relative path of plain names", param="path")
    path = PurePosixPath(name)
    parts = name.split("/")
    if path.is_absolute() or any(p in ("", ".", "..") for p in parts) or len(parts) > MAX_DEPTH:
        raise BadRequest(f"file path {shown} is not a relative path of plain names", param="path")
    return path


def checked_files(
    files: Mapping[str, bytes], settings: ServerSettings
) -> dict[PurePosixPath, bytes]:
    """The upload's paths checked, and its size and count within the server's limits."""
    if not files:
        raise BadRequest("no stack file was uploaded", param="files")
    if len(files) > settings.max_upload_files:
        raise BadRequest(f"too many files: at most {settings.max_upload_files}", param="files")
    total = sum(len(content) for content in files.values())
    if total > settings.max_upload_bytes:
        raise BadRequest(
            f"the upload is {total} bytes; at most {settings.max_upload_bytes}", param="files"
        )
    checked = {checked_path(name): content for name, content in files.items()}
    if len(checked) != len(files):
        raise BadRequest("a file path is given twice", param="files")
    return checked


def stack_file(files: Mapping[PurePosixPath, bytes], wanted: str | None) -> PurePosixPath:
    """The stack file among ``files``: ``wanted``, the only file, or the shallowest stack.yaml."""
    if wanted is not None:
        path = checked_path(wanted)
        if path not in files:
            raise BadRequest(f"stack {wanted!r} is not among the uploaded files", param="stack")
        return path
    if len(files) == 1:
        return next(iter(files))
    named = sorted((len(p.parts), str(p)) for p in files if p.name in STACK_NAMES)
    if not named:
        raise BadRequest("name the stack file (?stack=PATH): no stack.yaml among", param="stack")
    return PurePosixPath(named[0][1])


def write_upload(files: Mapping[PurePosixPath, bytes], root: Path) -> Path:
    """Write ``files`` into a new private directory under ``root``; return that directory."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory = Path(tempfile.mkdtemp(prefix="stack-", dir=root))
    real = directory.resolve()
    for relative, content in files.items():
        target = directory.joinpath(*relative.parts)
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not parent.resolve().is_relative_to(real):
            raise BadRequest(f"file path {str(relative)!r} leaves the upload", param="path")
        _write_new(target, content)
    return directory


def _write_new(target: Path, content: bytes) -> None:
    """Create ``target`` (never an existing file, never through a link), 0600, with ``content``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except (FileExistsError, IsADirectoryError, NotADirectoryError):
        raise BadRequest(f"file path {target.name!r} is given twice", param="path") from None
    with os.fdopen(fd, "wb") as out:
        out.write(content)
