"""A store this process can only read: read verbs work, writing verbs say it is read-only.

How the store is made read-only, per back end:

- SQLite: the database file and its directory are made immutable with
  ``chattr +i`` (tests run as root here, and root ignores ``chmod``; an
  immutable file refuses root too, like a file on a read-only mount). As
  another user, ``chmod 0444``/``0555`` does the same. Without either the
  test is skipped, saying why.
- PostgreSQL: the URL sets ``default_transaction_read_only=on``, as a
  read-only role or a hot standby would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .processes import run, run_json
from .stacks import deployment, write

READ_VERBS = (
    ("log",),
    ("verify",),
    ("applies",),
    ("state",),
    ("state", "node1"),
    ("state", "--stack"),
    ("blame", "node1"),
    ("show", "1"),
    ("checkpoints",),
    ("diff",),
    ("plan",),
)
WRITE_VERBS = (
    ("stage", "stack.yaml"),
    ("apply", "stack.yaml", "--yes"),
    ("discard",),
    ("checkpoint", "v1"),
    ("unlock", "--force"),
)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def _freeze(paths: list[Path]) -> None:
    """Make ``paths`` unwritable for this process (see the module docstring)."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only for root")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")


def _thaw(paths: list[Path]) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, check=False)
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def read_only(store_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a store with one apply, that this process can only read."""
    write(tmp_path, "stack.yaml", deployment())
    assert run(store_url, tmp_path, "apply", "stack.yaml", "--yes").returncode == 0
    database = _sqlite_file(store_url)
    if database is None:
        yield _read_only_postgresql(store_url)
        return
    paths = [database.parent, *database.parent.iterdir()]
    _freeze(paths)
    try:
        yield store_url
    finally:
        _thaw(paths)


def _read_only_postgresql(url: str) -> str:
    parsed = make_url(url)
    options = f"{parsed.query['options']} -cdefault_transaction_read_only=on"
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _fingerprint(url: str) -> str:
    """What the store holds, to show a refused verb wrote nothing."""
    database = _sqlite_file(url)
    if database is not None:
        return "".join(
            hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(database.parent.iterdir())
        )
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            tables = ("commits", "staged", "applies", "checkpoints", "store_lock", "resources")
            return repr([conn.execute(text(f"SELECT * FROM {t}")).all() for t in tables])
    finally:
        engine.dispose()


def test_read_verbs_work_on_a_read_only_store(read_only: str, tmp_path: Path) -> None:
    """log, verify, applies, state, blame, show ... exit 0 and show the store."""
    for verb in READ_VERBS:
        done = run(read_only, tmp_path, *verb)
        assert (done.returncode, done.stderr) == (0, ""), verb
    assert len(run_json(read_only, tmp_path, "log")["commits"]) == 4
    assert run_json(read_only, tmp_path, "verify")["ok"] is True
    assert [a["status"] for a in run_json(read_only, tmp_path, "applies")["applies"]] == [
        "succeeded"
    ]


def test_writing_verbs_say_the_store_is_read_only(read_only: str, tmp_path: Path) -> None:
    """stage, apply, discard, checkpoint, unlock: one line, exit 1, nothing written."""
    write(tmp_path, "stack.yaml", deployment(extra="  node2: {type: node, inputs: {ip: x}}\n"))
    before = _fingerprint(read_only)
    for verb in WRITE_VERBS:
        done = run(read_only, tmp_path, *verb)
        assert done.returncode == 1, (verb, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "read-only" in done.stderr, verb
        assert "unable to open" not in done.stderr
    assert _fingerprint(read_only) == before


def test_an_out_of_date_read_only_store_says_who_must_upgrade_it(
    store_url: str, tmp_path: Path
) -> None:
    """A read-only store at an older schema: one line saying it needs upgrading, exit 1."""
    write(tmp_path, "stack.yaml", deployment())
    assert run(store_url, tmp_path, "apply", "stack.yaml", "--yes").returncode == 0
    database = _sqlite_file(store_url)
    engine = create_engine(make_url(store_url).set(drivername=make_url(store_url).drivername))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()
    if database is None:
        url = _read_only_postgresql(store_url)
        paths: list[Path] = []
    else:
        url, paths = store_url, [database.parent, *database.parent.iterdir()]
        _freeze(paths)
    try:
        done = run(url, tmp_path, "log")
    finally:
        _thaw(paths)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "0003" in done.stderr and "upgrad" in done.stderr and "write" in done.stderr
