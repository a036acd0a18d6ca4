"""Store lock, lease and action attempts (durable applies).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

- ``store_lock``: exactly one row (``id = 1``, inserted here) naming who holds
  the store: a random ``token``, what it is doing, the apply, principal, host,
  pid, since when, and a lease on the database clock. ``token`` is NULL when
  the store is free.
- ``apply_tasks.attempts``/``error``: how many times each planned action was
  started, and the last failure of a failed one, so a resumed apply reports
  the whole apply.
- ``ix_applies_status``: finding running and interrupted applies without a scan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lock = op.create_table(
        "store_lock",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("activity", sa.Text(), nullable=True),
        sa.Column("apply_id", sa.Integer(), nullable=True),
        sa.Column("principal", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("since", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_store_lock"),
        sa.CheckConstraint("id = 1", name="ck_store_lock_one_row"),
    )
    op.bulk_insert(lock, [{"id": 1}])
    op.add_column(
        "apply_tasks", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("apply_tasks", sa.Column("error", sa.Text(), nullable=True))
    op.create_index("ix_applies_status", "applies", ["status"])


def downgrade() -> None:
    op.drop_index("ix_applies_status", table_name="applies")
    with op.batch_alter_table("apply_tasks") as batch:
        batch.drop_column("error")
        batch.drop_column("attempts")
    op.drop_table("store_lock")
