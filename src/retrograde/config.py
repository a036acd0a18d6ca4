"""Where the store lives and who is acting: read once from flags and environment."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

DB_ENV = "RETROGRADE_DB"
PRINCIPAL_ENV = "RETROGRADE_PRINCIPAL"
DEFAULT_DB_PATH = Path(".retrograde") / "state.db"


def database_url(explicit: str | None = None, *, cwd: Path | None = None) -> str:
    """The store URL: ``--db``, else ``RETROGRADE_DB``, else the embedded SQLite file."""
    if explicit:
        return explicit
    from_env = os.environ.get(DB_ENV)
    if from_env:
        return from_env
    base = cwd if cwd is not None else Path.cwd()
    return f"sqlite:///{(base / DEFAULT_DB_PATH).as_posix()}"


def principal(explicit: str | None = None) -> str:
    """Who acts: ``--principal``, else ``RETROGRADE_PRINCIPAL``, else the OS user."""
    if explicit:
        return explicit
    from_env = os.environ.get(PRINCIPAL_ENV)
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
