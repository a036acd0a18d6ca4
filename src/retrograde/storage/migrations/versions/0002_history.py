"""Indexes for searching the commit log, and the input index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

- ``ix_commits_principal_rev`` and ``ix_commits_action_rev`` answer ``log
  --principal`` and ``log --action`` newest first, like the resource and apply
  indexes of 0001.
- ``commit_inputs (name, rev)``: one row per input a commit's diff touches, for
  ``log --input``; filled here for commits that already exist.
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
