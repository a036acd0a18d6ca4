"""What a server is configured with, besides the store it serves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SESSION_SECONDS = 12 * 3600
"""How long a page session lasts (never beyond its token's expiry)."""

TOUCH_SECONDS = 60.0
"""A token's ``last used`` is written at most this often, so reads stay reads."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """``stacks_root``: where uploaded stack directories are written, one private directory
    each (handlers later run there). ``serialise_writes``: one write transaction at a time in
    this process (SQLite, whose writers would otherwise wait on its busy timeout)."""

    stacks_root: Path
    serialise_writes: bool = False
    session_seconds: int = SESSION_SECONDS
    max_upload_bytes: int = 16 * 1024 * 1024
    max_upload_files: int = 1000
    shutdown_grace_seconds: float = 60.0
