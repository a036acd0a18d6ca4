"""Opening stores: URLs, error messages, SQLite connection setup and schema revisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from retrograde.config import READ_BUSY_TIMEOUT_SECONDS
from retrograde.errors import StoreError
from retrograde.model.query import LogQuery
from retrograde.storage.connect import open_store
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql.database import normalise_url
from tests import store_calls

from .samples import NODE, begin, change, commit_all, node, stamp


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_unreachable_postgresql_is_a_one_line_store_error_with_the_password_masked() -> None:
    """A server that refuses connections gives one line naming host and port, never the password."""
    url = "postgresql://retro:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as raised:
        open_store(url)
    message = str(raised.value)
    assert "\n" not in message
    assert "retro:***@127.0.0.1:1/nowhere" in message
    assert "s3cret" not in message
    assert raised.value.__cause__ is not None


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y", "postgresql+nosuchdriver://h/d"])
def test_unusable_urls_are_store_errors_naming_the_url(url: str) -> None:
    """Garbage, unknown databases and unknown drivers are all StoreErrors that name the URL."""
    with pytest.raises(StoreError, match="cannot open store") as raised:
        open_store(url)
    assert url in str(raised.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgresql_urls_use_the_psycopg_3_driver(scheme: str) -> None:
    """Plain PostgreSQL URLs are given the psycopg 3 driver; other URLs are left alone."""
    url = normalise_url(f"{scheme}://u:p@db.example:5433/retro?sslmode=require")
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.query) == (
        "db.example",
        5433,
        "retro",
        {"sslmode": "require"},
    )
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_store_creates_its_directory(tmp_path: Path) -> None:
    """Opening a SQLite store under missing directories creates them and the file."""
    path = tmp_path / "deep" / "er" / "state.db"
    with open_store(sqlite_url(path)):
        pass
    assert path.is_file()


def test_sqlite_store_whose_directory_cannot_exist_is_a_store_error(tmp_path: Path) -> None:
    """A parent path that is a regular file gives a StoreError, not an OSError."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot open store"):
        open_store(sqlite_url(blocker / "state.db"))


def test_sqlite_connections_are_wal_and_power_safe(tmp_path: Path) -> None:
    """Every connection runs WAL with synchronous=FULL, foreign keys on and a busy timeout."""
    with open_store(sqlite_url(tmp_path / "s.db")) as store, store.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": round(READ_BUSY_TIMEOUT_SECONDS * 1000),  # a plain connection reads
    }


def test_sqlite_writes_take_the_write_lock_up_front(tmp_path: Path) -> None:
    """Write transactions start with BEGIN IMMEDIATE, read transactions with a plain BEGIN."""
    with open_store(sqlite_url(tmp_path / "s.db")) as store:
        seen: list[str] = []
        event.listen(
            store.engine,
            "before_cursor_execute",
            lambda *args: seen.append(args[2]) if args[2].startswith("BEGIN") else None,
        )
        store_calls.replace_staged(store, [change("a", None, node("1"))], [NODE])
        written = list(seen)
        seen.clear()
        store_calls.load_staged(store)
    assert written == ["BEGIN IMMEDIATE"]
    assert seen == ["BEGIN"]


def test_sqlite_enforces_the_journal_foreign_key(tmp_path: Path) -> None:
    """A journal task for an apply that does not exist is refused by the database."""
    with open_store(sqlite_url(tmp_path / "s.db")) as store, store.engine.connect() as conn:
        insert = text(
            "INSERT INTO apply_tasks (apply_id, resource, action, type, version, position, status)"
            " VALUES (99, 'a', 'run', 'node', 1, 0, 'pending')"
        )
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            conn.execute(insert)


def test_a_store_from_a_newer_retrograde_is_refused(tmp_path: Path) -> None:
    """An unknown schema revision is a StoreError rather than a silent downgrade or crash."""
    url = sqlite_url(tmp_path / "s.db")
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="9999"):
        open_store(url)


@pytest.mark.slow
def test_commit_rows_stay_lean(tmp_path: Path) -> None:
    """A typical commit costs under 500 bytes of SQLite pages, indexes included."""
    count = 2000
    with open_store(sqlite_url(tmp_path / "s.db")) as store:
        changes = [
            change(f"node{i:06d}", None, node(f"10.0.{i // 256}.{i % 256}", node="c1"))
            for i in range(count)
        ]
        record = begin(store, changes)
        for start in range(0, count, 250):
            batch = [CommitEntry(c, stamp(1)) for c in changes[start : start + 250]]
            store_calls.record_commits(store, record.id, "alice", "deploy", batch)
        with store.engine.connect() as conn:
            size = conn.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%commits%'"
            ).scalar_one()
        assert len(store_calls.log(store, LogQuery(limit=count + 1))) == count
    assert size / count < 500


def test_reopened_sqlite_store_keeps_committed_history(tmp_path: Path) -> None:
    """Commits written by one store object are read back by the next one on the same file."""
    url = sqlite_url(tmp_path / "s.db")
    with open_store(url) as store:
        built = commit_all(store, [change("a", None, node("1"))])
    with open_store(url) as again:
        assert store_calls.get_commit(again, 1) == built[0]
        assert store_calls.head(again) == (1, built[0].hash)
