"""API tokens for ``retrograde serve``.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01

- ``tokens``: one row per token: name (the principal), role, the SHA-256
  digest of its secret (unique), created, expires and last used. The secret
  itself is never stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("expires", sa.Text(), nullable=True),
        sa.Column("last_used", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_tokens"),
        sa.CheckConstraint("role IN ('reader', 'operator', 'admin')", name="ck_tokens_role"),
    )
    op.create_index("ix_tokens_digest", "tokens", ["digest"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tokens_digest", table_name="tokens")
    op.drop_table("tokens")
