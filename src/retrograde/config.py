"""Where the store lives, who is acting, and the limits on what is read: from flags and
environment."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable
from pathlib import Path

DB_ENV = "RETROGRADE_DB"
PRINCIPAL_ENV = "RETROGRADE_PRINCIPAL"
DEFAULT_DB_PATH = Path(".retrograde") / "state.db"


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
"""What a database URL starts with (``sqlite://``, ``postgresql+psycopg://``)."""


def database_url(explicit: str | None = None, *, cwd: Path | None = None) -> str:
    """The store URL: ``--db``, else ``RETROGRADE_DB``, else the embedded SQLite file.

    ``--db`` and ``RETROGRADE_DB`` take a URL or a plain path of a SQLite file
    (``./state.db``, ``/tmp/x.db``), relative to ``cwd``.
    """
    base = cwd if cwd is not None else Path.cwd()
    given = explicit or os.environ.get(DB_ENV)
    if not given:
        return sqlite_file_url(base / DEFAULT_DB_PATH)
    if _URL.match(given):
        return given
    return sqlite_file_url(base / Path(given).expanduser())


def sqlite_file_url(path: Path) -> str:
    """The URL of the SQLite file at ``path`` (made absolute against the current directory)."""
    return f"sqlite:///{Path(os.path.abspath(path)).as_posix()}"


class Principal(str):
    """A principal's name that knows where it came from (``source``): ``declared`` for
    ``--principal``/``RETROGRADE_PRINCIPAL``, ``os`` for the OS user, ``token`` for a server
    token. It is the name everywhere; apply records keep the source in the hash chain."""

    source: str

    def __new__(cls, name: str, source: str) -> Principal:
        made = super().__new__(cls, name)
        made.source = source
        return made


def principal(explicit: str | None = None) -> Principal:
    """Who acts: ``--principal``, else ``RETROGRADE_PRINCIPAL``, else the OS user."""
    if explicit:
        return Principal(explicit, "declared")
    from_env = os.environ.get(PRINCIPAL_ENV)
    if from_env:
        return Principal(from_env, "declared")
    try:
        return Principal(getpass.getuser(), "os")
    except (KeyError, OSError):
        return Principal(f"uid:{os.getuid()}", "os")


def principal_source(name: str) -> str:
    """Where ``name`` came from (see :class:`Principal`); a plain string was declared."""
    return name.source if isinstance(name, Principal) else "declared"


FAULT_ENV = "RETROGRADE_FAULT"
LEASE_ENV = "RETROGRADE_LOCK_LEASE"
DEFAULT_LEASE_SECONDS = 60.0


def fault_spec() -> str | None:
    """The fault to inject (crash tests only): ``RETROGRADE_FAULT``, e.g. ``after-handler:web``.

    Unset (the normal case) means no fault; see :mod:`retrograde.engine.faults`.
    """
    return os.environ.get(FAULT_ENV) or None


def lock_lease_seconds() -> float:
    """How long the store lock stays valid without a refresh: ``RETROGRADE_LOCK_LEASE``, else 60.

    A holder that stops refreshing (a dead or frozen process on another
    machine) loses the lock this long after its last refresh. An unusable
    value falls back to the default rather than breaking every command.
    """
    try:
        lease = float(os.environ.get(LEASE_ENV, DEFAULT_LEASE_SECONDS))
    except ValueError:
        return DEFAULT_LEASE_SECONDS
    return lease if lease > 0 else DEFAULT_LEASE_SECONDS


BUSY_TIMEOUT_ENV = "RETROGRADE_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0
READ_BUSY_TIMEOUT_SECONDS = 5.0


def busy_timeout_seconds() -> float:
    """How long a write waits for a database another process's transaction holds:
    ``RETROGRADE_BUSY_TIMEOUT``, else 30 (an unusable value falls back to the default).

    Reads never need the write lock; they wait at most
    :data:`READ_BUSY_TIMEOUT_SECONDS` (or this, when shorter) for the rare moment a
    reader must (SQLite recovering a WAL).
    """
    try:
        timeout = float(os.environ.get(BUSY_TIMEOUT_ENV, DEFAULT_BUSY_TIMEOUT_SECONDS))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_SECONDS
    return timeout if timeout >= 0 and timeout < 1e9 else DEFAULT_BUSY_TIMEOUT_SECONDS


LOG_CAP_ENV = "RETROGRADE_LOG_CAP"
DEFAULT_LOG_CAP_BYTES = 256 * 1024 * 1024


def log_cap_bytes() -> int:
    """How many bytes of compressed handler output a store keeps: ``RETROGRADE_LOG_CAP``,
    else 256 MiB; past it the oldest output is dropped. An unusable value (not a
    non-negative integer) falls back to the default.
    """
    try:
        cap = int(os.environ.get(LOG_CAP_ENV, DEFAULT_LOG_CAP_BYTES))
    except ValueError:
        return DEFAULT_LOG_CAP_BYTES
    return cap if cap >= 0 else DEFAULT_LOG_CAP_BYTES


MAX_STACK_BYTES_ENV = "RETROGRADE_MAX_STACK_BYTES"
ALLOW_INCLUDE_ENV = "RETROGRADE_ALLOW_INCLUDE"
DEFAULT_MAX_STACK_BYTES = 64 * 1024 * 1024


def max_stack_bytes() -> int:
    """The largest stack or included file read: ``RETROGRADE_MAX_STACK_BYTES``, else 64 MiB.

    An unusable value (not a positive integer) falls back to the default, so a
    typo never lifts the limit.
    """
    try:
        limit = int(os.environ.get(MAX_STACK_BYTES_ENV, DEFAULT_MAX_STACK_BYTES))
    except ValueError:
        return DEFAULT_MAX_STACK_BYTES
    return limit if limit > 0 else DEFAULT_MAX_STACK_BYTES


def allowed_include_dirs(explicit: Iterable[Path] = ()) -> tuple[Path, ...]:
    """Directories stack files may include from besides their own tree.

    ``explicit`` (``--allow-include DIR``) first, then the ``os.pathsep``
    separated list in ``RETROGRADE_ALLOW_INCLUDE``; empty entries are ignored.
    """
    from_env = os.environ.get(ALLOW_INCLUDE_ENV, "").split(os.pathsep)
    return (*explicit, *(Path(entry) for entry in from_env if entry))


STACK_VAR_ENV_PREFIX = "RETROGRADE_VAR_"


def stack_var_environment() -> dict[str, str]:
    """Values for stack vars from the environment: ``RETROGRADE_VAR_<name>`` by ``<name>``
    (the exact, case-sensitive name of the var)."""
    size = len(STACK_VAR_ENV_PREFIX)
    return {
        key[size:]: value
        for key, value in os.environ.items()
        if key.startswith(STACK_VAR_ENV_PREFIX) and len(key) > size
    }


EXECUTOR_ENV = "RETROGRADE_EXECUTOR"
CELERY_BROKER_ENV = "RETROGRADE_CELERY_BROKER"
CELERY_BACKEND_ENV = "RETROGRADE_CELERY_BACKEND"
CELERY_QUEUE_ENV = "RETROGRADE_CELERY_QUEUE"
CELERY_VISIBILITY_ENV = "RETROGRADE_CELERY_VISIBILITY_TIMEOUT"
CELERY_BUNDLE_ENV = "RETROGRADE_CELERY_BUNDLE_UNDER"
WORKER_ENV = "RETROGRADE_WORKER"
DEFAULT_CELERY_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_CELERY_BACKEND = "redis://127.0.0.1:6379/0"
DEFAULT_CELERY_QUEUE = "retrograde"
DEFAULT_VISIBILITY_SECONDS = 43_200.0


def celery_broker() -> str:
    """The Celery broker URL (RabbitMQ ``amqp://`` or Redis): ``RETROGRADE_CELERY_BROKER``."""
    return os.environ.get(CELERY_BROKER_ENV) or DEFAULT_CELERY_BROKER


def celery_backend() -> str:
    """The Celery result backend URL (Redis): ``RETROGRADE_CELERY_BACKEND``."""
    return os.environ.get(CELERY_BACKEND_ENV) or DEFAULT_CELERY_BACKEND


def celery_queue() -> str:
    """The queue of actions nothing else routes (``queue:``, ``route_by``):
    ``RETROGRADE_CELERY_QUEUE``, else ``retrograde``."""
    return os.environ.get(CELERY_QUEUE_ENV) or DEFAULT_CELERY_QUEUE


def celery_visibility_seconds() -> float:
    """The longest an action may wait and run on a worker before the broker redelivers it.

    ``RETROGRADE_CELERY_VISIBILITY_TIMEOUT``, else 12 hours; the Redis broker's
    visibility timeout, and the bound on any action's queue timeout plus timeout
    (RabbitMQ's ``consumer_timeout`` must be set above it on the server). An
    unusable value falls back to the default.
    """
    try:
        seconds = float(os.environ.get(CELERY_VISIBILITY_ENV, DEFAULT_VISIBILITY_SECONDS))
    except ValueError:
        return DEFAULT_VISIBILITY_SECONDS
    return seconds if seconds > 0 else DEFAULT_VISIBILITY_SECONDS


def celery_bundle_seconds(default: float) -> float:
    """Actions of a queue share messages while its recent ones took less than this on
    average: ``RETROGRADE_CELERY_BUNDLE_UNDER`` (seconds; 0 sends every action alone),
    else ``default``. An unusable value falls back to ``default``."""
    try:
        seconds = float(os.environ.get(CELERY_BUNDLE_ENV, default))
    except ValueError:
        return default
    return seconds if seconds >= 0 else default


SECRET_KEY_FILE_ENV = "RETROGRADE_SECRET_KEY_FILE"


def secret_key_file(store_id: str) -> Path:
    """The key file of the store ``store_id``: ``RETROGRADE_SECRET_KEY_FILE``, else
    ``$XDG_CONFIG_HOME/retrograde/keys/<store id>.key`` (``~/.config`` without it).

    Kept in the user's configuration, never beside the store or the stack, so
    that copying a store or a project folder does not copy the key with it.
    """
    given = os.environ.get(SECRET_KEY_FILE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "retrograde" / "keys" / f"{store_id}.key"
