"""Handler output: what each attempt of each action wrote, and its store-wide total.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

- ``action_output``: one row per attempt of an action that ran a handler:
  apply, resource, attempt, the commit it made (``rev``, NULL for a failure),
  and ``[stdout, stderr]`` as zstd-compressed JSON with its size. Outside the
  hash chain and never exported.
- ``output_totals``: exactly one row (``id = 1``, inserted here): the bytes
  ``action_output`` holds, and the newest revision and apply whose output the
  store-wide cap dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_output",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("apply_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("output", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_output"),
    )
    op.create_index(
        "ix_action_output_apply_id_resource", "action_output", ["apply_id", "resource", "attempt"]
    )
    op.create_index("ix_action_output_rev", "action_output", ["rev"])
    totals = op.create_table(
        "output_totals",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("dropped_rev", sa.Integer(), nullable=False),
        sa.Column("dropped_apply", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_output_totals"),
        sa.CheckConstraint("id = 1", name="ck_output_totals_one_row"),
    )
    op.bulk_insert(totals, [{"id": 1, "bytes": 0, "dropped_rev": 0, "dropped_apply": 0}])


def downgrade() -> None:
    op.drop_table("output_totals")
    op.drop_index("ix_action_output_rev", table_name="action_output")
    op.drop_index("ix_action_output_apply_id_resource", table_name="action_output")
    op.drop_table("action_output")
