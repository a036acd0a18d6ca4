"""A stack whose handler writes the secret it is given to a file, and raw readers of stores.

The raw readers are what an attacker with a copy of the store sees: the bytes
of a SQLite file (and its -wal and -shm), every row of every PostgreSQL table
as text, an export file decompressed.
"""

from __future__ import annotations

import json
from pathlib import Path

import zstandard
from sqlalchemy import create_engine, inspect, text

from retrograde.storage.sql.database import normalise_url, sqlite_file
from tests.stacks import write

SECRET_V1 = "hunter2-Vault-s3cr3t"
SECRET_V2 = "correct-horse-battery-staple"
SECRET_V3 = "staged-but-not-applied-9137"


def vault_stack(password: str, host: str = "db1", *, other: str = "other-Secret-55") -> str:
    """Resources ``vault`` and ``spare`` of type ``vault``; ``run``/``update`` save the
    password they are given to ``<resource>.password`` (the handler gets plaintext)."""
    saving = "printf %s {{ inputs.password }} > {{ resource }}.password"
    return f"""
types:
  vault:
    version: 1
    inputs:
      password: {{type: string, secret: true}}
      host: {{type: string}}
    actions:
      run: {{shell: {json.dumps(saving)}}}
      update: {{shell: {json.dumps(saving)}}}
resources:
  vault: {{type: vault, inputs: {{password: {json.dumps(password)}, host: {host}}}}}
  spare: {{type: vault, inputs: {{password: {json.dumps(other)}, host: db2}}}}
"""


def write_vault(directory: Path, name: str, password: str, host: str = "db1") -> Path:
    return write(directory, name, vault_stack(password, host))


def raw_store(url: str) -> bytes:
    """Everything the store keeps, as an attacker reads it: file bytes, or every row, and
    the zstd-compressed snapshots and handler output decompressed."""
    parsed = normalise_url(url)
    path = sqlite_file(parsed)
    if path is not None:
        found = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return b"".join(p.read_bytes() for p in found if p.exists()) + _compressed(url)
    return _rows(url) + _compressed(url)


def _compressed(url: str) -> bytes:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            blobs = [*conn.execute(text("SELECT state FROM snapshots")).scalars()]
            blobs += [*conn.execute(text("SELECT output FROM action_output")).scalars()]
    finally:
        engine.dispose()
    unpack = zstandard.ZstdDecompressor()
    return b"".join(unpack.stream_reader(bytes(blob)).read() for blob in blobs if blob)


def _rows(url: str) -> bytes:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            rows = [
                str(tuple(row))
                for table in tables
                for row in conn.execute(text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()
    return "\n".join(rows).encode("utf-8")


def export_text(path: Path) -> str:
    """An export file's lines, decompressed if it is a ``.zst``."""
    data = path.read_bytes()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    return data.decode("utf-8")


def raw_pages(url: str) -> bytes:
    """Every page of every table (and its TOAST table) of a PostgreSQL store, as the server
    keeps them on disk, row versions that are no longer visible included (``pageinspect``)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public"))
            conn.commit()
            relations = conn.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind IN ('r', 't')"
                    " AND (c.relnamespace = current_schema()::regnamespace OR c.oid IN"
                    " (SELECT reltoastrelid FROM pg_class WHERE relnamespace ="
                    " current_schema()::regnamespace))"
                )
            ).scalars()
            every_page = text(
                "SELECT public.get_raw_page(CAST(:r AS text), n::int) FROM generate_series(0,"
                " pg_relation_size(CAST(:r AS regclass))"
                " / current_setting('block_size')::int - 1) n"
            )
            pages = [
                bytes(page)
                for relation in list(relations)
                for page in conn.execute(every_page, {"r": relation}).scalars()
            ]
    finally:
        engine.dispose()
    return b"".join(pages)


def relfilenodes(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Each table's file number on its PostgreSQL server (rewriting a table changes it)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            query = text("SELECT relfilenode FROM pg_class WHERE oid = CAST(:t AS regclass)")
            return {t: int(conn.execute(query, {"t": t}).scalar_one()) for t in tables}
    finally:
        engine.dispose()
