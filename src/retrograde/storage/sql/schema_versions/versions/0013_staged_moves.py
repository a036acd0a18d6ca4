"""Staged moves: renames waiting in the staged log, in the order ``apply`` commits them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

- ``staged_moves``: one row per pending rename (``seq`` is its place in the
  order), the resource's name after it, its name before it and the ``move``
  change as JSON. ``revert`` of a move and ``rollback`` across one stage them;
  ``apply`` commits them before any staged value change. The staged log's
  value changes (``staged``, one per resource) are named as after the moves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staged_moves",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("moved_from", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_staged_moves"),
    )


def downgrade() -> None:
    op.drop_table("staged_moves")
