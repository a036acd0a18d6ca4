"""The initial store: types, committed state, staged log, applies, journal, commit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen: later schema changes are new revisions, never edits of this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_types()
    _create_resources()
    _create_staged()
    _create_applies()
    _create_apply_tasks()
    _create_commits()


def downgrade() -> None:
    for table in ("commits", "apply_tasks", "applies", "staged", "resources", "types"):
        op.drop_table(table)


def _create_types() -> None:
    op.create_table(
        "types",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_types"),
    )


def _create_resources() -> None:
    op.create_table(
        "resources",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("connections", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_resources"),
    )


def _create_staged() -> None:
    op.create_table(
        "staged",
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("resource", name="pk_staged"),
    )


def _create_applies() -> None:
    op.create_table(
        "applies",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.Text(), nullable=True),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applies"),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'interrupted')",
            name="ck_applies_status",
        ),
    )


def _create_apply_tasks() -> None:
    op.create_table(
        "apply_tasks",
        sa.Column("apply_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("apply_id", "resource", name="pk_apply_tasks"),
        sa.ForeignKeyConstraint(
            ["apply_id"], ["applies.id"], name="fk_apply_tasks_apply_id_applies"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'started', 'done', 'failed', 'skipped')",
            name="ck_apply_tasks_status",
        ),
    )


def _create_commits() -> None:
    op.create_table(
        "commits",
        sa.Column("rev", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("apply_id", sa.Integer(), nullable=True),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reverts", sa.Text(), nullable=True),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rev", name="pk_commits"),
    )
    op.create_index("ix_commits_resource_rev", "commits", ["resource", "rev"])
    op.create_index("ix_commits_apply_id_rev", "commits", ["apply_id", "rev"])
