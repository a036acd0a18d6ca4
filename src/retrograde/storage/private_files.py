"""Files only their owner may read: key files, store files, exports (``0600``, dirs ``0700``).

Modes are given when a file is created (``os.open``), never fixed afterwards,
so there is no moment at which another user could open it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dirs(path: Path) -> None:
    """Create ``path`` and any missing parent, each new one ``0700`` (whatever the umask)."""
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        here = here.parent
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(directory, PRIVATE_DIR)


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` (which must not exist) ``0600`` with ``data``, durably."""
    private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private(path: Path) -> None:
    """Create ``path`` empty and ``0600`` (and its missing directories ``0700``) unless it
    exists; SQLite then keeps that mode for the database and gives it to its -wal and -shm."""
    private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that creates files ``0600``."""
    return os.open(path, flags, PRIVATE_FILE)
