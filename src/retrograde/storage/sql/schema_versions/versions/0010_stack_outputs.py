"""Stack outputs: the output definitions of the stack file last staged.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01

- ``stack_outputs``: one row per output of the stack file last staged (its
  name, its place in the file and its definition as JSON: text parts and
  ``resource.input`` references, never a secret var's value). ``output``
  evaluates them against committed state. Outside the hash chain and never
  exported: the definitions are the stack file's, not history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stack_outputs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_stack_outputs"),
    )


def downgrade() -> None:
    op.drop_table("stack_outputs")
