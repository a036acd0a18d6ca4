"""Apply kinds: what made an apply's commits (an apply, or a verb that runs no handler).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01

- ``applies.kind``: ``apply`` for a run of a plan (every existing record),
  ``migrate``, ``observe``, ``move`` or ``adopt`` for commits written without
  a handler (type version migrations, ``refresh``, renames, ``adopt``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applies") as batch:
        batch.add_column(sa.Column("kind", sa.Text(), nullable=False, server_default="apply"))


def downgrade() -> None:
    with op.batch_alter_table("applies") as batch:
        batch.drop_column("kind")
