"""Checkpoints and state-at-revision indexes (filled by the rollback work).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

``checkpoints`` names revisions; ``snapshots`` holds committed state as of
some revisions (zstd-compressed JSON) so that state at any revision is a
snapshot plus a short forward replay, never a replay of the whole log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_checkpoints"),
    )
    op.create_index("ix_checkpoints_rev", "checkpoints", ["rev"])
    op.create_table(
        "snapshots",
        sa.Column("rev", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("resources", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("rev", name="pk_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_index("ix_checkpoints_rev", table_name="checkpoints")
    op.drop_table("checkpoints")
