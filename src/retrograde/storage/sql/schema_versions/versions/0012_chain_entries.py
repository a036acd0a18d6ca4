"""Chain entries and signatures: type definitions, checkpoints and applies join the hash chain.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

- ``chain_entries``: one row per chain entry (see :mod:`retrograde.model.chain`).
- ``signatures``: Ed25519 signatures of chain heads, beside the chain.
- ``applies.principal_source``: where an apply's principal came from (NULL: before 0012).

Then, once: an ``upgrade`` entry records the head the store had (its commits keep
their hashes), and every stored type definition, checkpoint and apply record is
chained after it (:func:`retrograde.storage.sql.chain_upgrade.chain_existing`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_entries",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("after_rev", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_chain_entries"),
    )
    op.create_index("ix_chain_entries_kind_key_seq", "chain_entries", ["kind", "key", "seq"])
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signatures"),
    )
    op.create_index("ix_signatures_rev_seq", "signatures", ["rev", "seq"])
    op.add_column("applies", sa.Column("principal_source", sa.Text(), nullable=True))
    # What the store held is chained after the migrations, once older stores' secrets are
    # sealed (which rehashes commits): retrograde.storage.sql.upgrade.upgrade_to_head.


def downgrade() -> None:
    with op.batch_alter_table("applies") as batch:
        batch.drop_column("principal_source")
    op.drop_index("ix_signatures_rev_seq", table_name="signatures")
    op.drop_table("signatures")
    op.drop_index("ix_chain_entries_kind_key_seq", table_name="chain_entries")
    op.drop_table("chain_entries")
