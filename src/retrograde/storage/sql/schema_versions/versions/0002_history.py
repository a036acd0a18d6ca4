"""Indexes for searching the commit log, and the input index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

- ``ix_commits_principal_rev`` and ``ix_commits_action_rev`` answer ``log
  --principal`` and ``log --action`` newest first, like the resource and apply
  indexes of 0001.
- ``commit_inputs (name, rev)``: one row per input a commit's diff touches, for
  ``log --input``; filled here for commits that already exist.
- ``commits.hash`` becomes the digest's 32 bytes instead of 64 hex digits
  (converted here), a seventh of a commit row.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 10_000


def upgrade() -> None:
    _hash_to_bytes()
    op.create_index("ix_commits_principal_rev", "commits", ["principal", "rev"])
    op.create_index("ix_commits_action_rev", "commits", ["action", "rev"])
    inputs = op.create_table(
        "commit_inputs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("name", "rev", name="pk_commit_inputs"),
        sqlite_with_rowid=False,
    )
    _backfill(inputs)


def downgrade() -> None:
    op.drop_table("commit_inputs")
    op.drop_index("ix_commits_action_rev", table_name="commits")
    op.drop_index("ix_commits_principal_rev", table_name="commits")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("commits", "hash", type_=sa.Text(), postgresql_using="encode(hash, 'hex')")
        return
    _convert_hashes(lambda stored: bytes(stored).hex(), "blob")
    with op.batch_alter_table("commits") as batch:
        batch.alter_column("hash", type_=sa.Text(), existing_nullable=False)


def _hash_to_bytes() -> None:
    """PostgreSQL converts in place; SQLite converts the values, then recreates the table."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "commits", "hash", type_=sa.LargeBinary(), postgresql_using="decode(hash, 'hex')"
        )
        return
    _convert_hashes(bytes.fromhex, "text")
    with op.batch_alter_table("commits") as batch:
        batch.alter_column("hash", type_=sa.LargeBinary(), existing_nullable=False)


def _convert_hashes(convert: Any, stored_as: str) -> None:
    """SQLite: rewrite every hash stored as ``stored_as`` with ``convert``, a batch at a time."""
    conn = op.get_bind()
    commits = sa.table("commits", sa.column("rev", sa.Integer), sa.column("hash"))
    last = 0
    while True:
        query = (
            sa.select(commits.c.rev, commits.c.hash)
            .where(commits.c.rev > last, sa.func.typeof(commits.c.hash) == stored_as)
            .order_by(commits.c.rev)
            .limit(BACKFILL_BATCH)
        )
        batch = conn.execute(query).all()
        if not batch:
            return
        update = (
            commits.update()
            .where(commits.c.rev == sa.bindparam("k_rev"))
            .values(hash=sa.bindparam("v_hash"))
        )
        conn.execute(update, [{"k_rev": rev, "v_hash": convert(value)} for rev, value in batch])
        last = batch[-1][0]


def _backfill(inputs: sa.Table) -> None:
    """Index the inputs of the commits already stored, a batch of revisions at a time."""
    conn = op.get_bind()
    commits = sa.table("commits", sa.column("rev", sa.Integer), sa.column("payload", sa.Text))
    last = 0
    while True:
        query = (
            sa.select(commits.c.rev, commits.c.payload)
            .where(commits.c.rev > last)
            .order_by(commits.c.rev)
            .limit(BACKFILL_BATCH)
        )
        batch = conn.execute(query).all()
        if not batch:
            return
        rows = [{"name": name, "rev": rev} for rev, payload in batch for name in _names(payload)]
        if rows:
            conn.execute(inputs.insert(), rows)
        last = batch[-1][0]


def _names(payload: str) -> list[str]:
    """Input names of a stored diff (0001 stored it under ``diff``)."""
    data: dict[str, Any] = json.loads(payload)
    return list(data.get("diff") or data.get("d") or {})
