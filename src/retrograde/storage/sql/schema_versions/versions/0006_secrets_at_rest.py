"""Secrets at rest: the store's id and wrapped data key, and the record of chain upgrades.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- ``store_keys``: exactly one row (``id = 1``, inserted here with a random
  ``store_id``): the store's id (which names its key file) and its data key
  wrapped under the key file (NULL until the first secret is staged).
- ``chain_upgrades``: one row per re-encoding of the log that changed its
  hashes (secret values sealed in a store or export that held them in
  clear): the old head's revision and hash, the new head hash, and when.

Sealing the secret values a store already holds in clear needs the key
file, so it is not done here but by the data step that runs right after
(``retrograde.storage.sql.reencoding``), in the same transaction.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keys = op.create_table(
        "store_keys",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_store_keys"),
        sa.CheckConstraint("id = 1", name="ck_store_keys_one_row"),
    )
    op.bulk_insert(keys, [{"id": 1, "store_id": uuid.uuid4().hex, "wrapped_key": None}])
    op.create_table(
        "chain_upgrades",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("old_rev", sa.Integer(), nullable=False),
        sa.Column("old_hash", sa.Text(), nullable=False),
        sa.Column("new_hash", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chain_upgrades"),
    )


def downgrade() -> None:
    op.drop_table("chain_upgrades")
    op.drop_table("store_keys")
