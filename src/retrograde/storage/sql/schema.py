"""The store's tables as SQLAlchemy Core metadata.

The Alembic migrations in ``migrations/versions`` create exactly these tables
(the contract suite compares the two on every back end); nothing calls
``create_all()``. JSON values are kept as compact JSON text in ``Text`` columns,
so SQLite and PostgreSQL hand back exactly the values they were given.

The commit log is the table that grows without bound, so its rows stay lean:
``reverse`` is derived from ``diff`` on read, ``reverts`` is NULL when empty,
and diff, connections and tags share one JSON column (``payload``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from retrograde.model.apply import ApplyStatus
from retrograde.model.journal import TaskStatus

HEAD_REVISION = "0013"
"""The newest Alembic revision; a store whose ``alembic_version`` holds it needs no upgrade."""

TASK_STATUSES = tuple(status.value for status in TaskStatus)
APPLY_STATUSES = tuple(status.value for status in ApplyStatus)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression that keeps a status column within its enum."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


metadata = MetaData()

types = Table(
    "types",
    metadata,
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False, autoincrement=False),
    Column("definition", Text, nullable=False),
    PrimaryKeyConstraint("name", "version", name="pk_types"),
)

resources = Table(
    "resources",
    metadata,
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("connections", Text, nullable=False),
    Column("tags", Text, nullable=False),
    PrimaryKeyConstraint("name", name="pk_resources"),
)

staged = Table(
    "staged",
    metadata,
    Column("resource", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("change", Text, nullable=False),
    PrimaryKeyConstraint("resource", name="pk_staged"),
)

staged_moves = Table(
    "staged_moves",
    metadata,
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("resource", Text, nullable=False),
    Column("moved_from", Text, nullable=False),
    Column("change", Text, nullable=False),
    PrimaryKeyConstraint("seq", name="pk_staged_moves"),
)
"""Renames waiting in the staged log (schema revision 0013), committed by ``apply`` in
``seq`` order before any value change; ``staged`` names resources as after them."""

applies = Table(
    "applies",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("principal", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("ended_at", Text, nullable=True),
    Column("succeeded", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("failures", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("kind", Text, nullable=False, server_default="apply"),
    Column("principal_source", Text, nullable=True),
    PrimaryKeyConstraint("id", name="pk_applies"),
    CheckConstraint(_one_of("status", APPLY_STATUSES), name="ck_applies_status"),
    Index("ix_applies_status", "status"),
)

apply_tasks = Table(
    "apply_tasks",
    metadata,
    Column("apply_id", Integer, nullable=False, autoincrement=False),
    Column("resource", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    PrimaryKeyConstraint("apply_id", "resource", name="pk_apply_tasks"),
    ForeignKeyConstraint(["apply_id"], ["applies.id"], name="fk_apply_tasks_apply_id_applies"),
    CheckConstraint(_one_of("status", TASK_STATUSES), name="ck_apply_tasks_status"),
)

commits = Table(
    "commits",
    metadata,
    Column("rev", Integer, nullable=False, autoincrement=False),
    Column("apply_id", Integer, nullable=True),
    Column("resource", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("principal", Text, nullable=False),
    Column("timestamp", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("reverts", Text, nullable=True),
    Column("hash", LargeBinary, nullable=False),
    Column("payload", Text, nullable=False),
    PrimaryKeyConstraint("rev", name="pk_commits"),
    Index("ix_commits_resource_rev", "resource", "rev"),
    Index("ix_commits_apply_id_rev", "apply_id", "rev"),
    Index("ix_commits_principal_rev", "principal", "rev"),
    Index("ix_commits_action_rev", "action", "rev"),
)
"""``rev`` is assigned by the store (gapless), never by the database.

On SQLite an ``INTEGER`` single-column primary key is the rowid itself, so the
log needs no separate primary-key index. ``hash`` holds the SHA-256 digest's
32 bytes (schema revision 0002; 0001 kept its hex text). Each filter of
``log`` has a ``(column, rev)`` index that lists its matches newest first;
time ranges need no index because timestamps never decrease with ``rev`` (see
:mod:`retrograde.storage.sql.log_search`).
"""

commit_inputs = Table(
    "commit_inputs",
    metadata,
    Column("name", Text, nullable=False),
    Column("rev", Integer, nullable=False, autoincrement=False),
    PrimaryKeyConstraint("name", "rev", name="pk_commit_inputs"),
    sqlite_with_rowid=False,
)
"""Which commits touched which input: one row per input name in a commit's diff.

Written by ``record_commits`` in the commit's transaction; answers
``log --input NAME`` newest first from its primary key.
"""

store_lock = Table(
    "store_lock",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=False),
    Column("token", Text, nullable=True),
    Column("activity", Text, nullable=True),
    Column("apply_id", Integer, nullable=True),
    Column("principal", Text, nullable=True),
    Column("host", Text, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("since", Text, nullable=True),
    Column("lease_until", Double, nullable=True),
    PrimaryKeyConstraint("id", name="pk_store_lock"),
    CheckConstraint("id = 1", name="ck_store_lock_one_row"),
)
"""Who holds the store (durable applies): one row, ``id = 1``; ``token`` is NULL when free.

``lease_until`` is in seconds since the epoch on the database's own clock, so
holders on different machines compare it against the same clock.
"""

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", Text, nullable=False),
    Column("rev", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("principal", Text, nullable=False),
    Column("timestamp", Text, nullable=False),
    PrimaryKeyConstraint("name", name="pk_checkpoints"),
    Index("ix_checkpoints_rev", "rev"),
)
"""Named revisions (schema revision 0003); rows are inserted, never updated or deleted."""

snapshots = Table(
    "snapshots",
    metadata,
    Column("rev", Integer, nullable=False, autoincrement=False),
    Column("resources", Integer, nullable=False),
    Column("state", LargeBinary, nullable=False),
    PrimaryKeyConstraint("rev", name="pk_snapshots"),
)
"""Committed state as of ``rev`` (zstd-compressed JSON), written now and then by
``record_commits`` so that state at any revision is a snapshot plus a short replay
(schema revision 0003). Derived data: the log alone decides what state was."""

action_output = Table(
    "action_output",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("apply_id", Integer, nullable=False),
    Column("resource", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("rev", Integer, nullable=True),
    Column("ok", Boolean, nullable=False),
    Column("truncated", Boolean, nullable=False),
    Column("size", Integer, nullable=False),
    Column("output", LargeBinary, nullable=False),
    PrimaryKeyConstraint("id", name="pk_action_output"),
    Index("ix_action_output_apply_id_resource", "apply_id", "resource", "attempt"),
    Index("ix_action_output_rev", "rev"),
)
"""What each attempt of each action wrote (schema revision 0005), outside the hash chain.

``output`` is the zstd-compressed JSON ``[stdout, stderr]`` (empty bytes when
both are empty), already masked and capped by the handler; ``size`` is its
length, which the store-wide cap counts. ``rev`` is the commit a successful
attempt made (NULL for a failure). ``id`` orders rows by age, so the oldest
output is dropped first. Never exported: the log alone is the history.
"""

output_totals = Table(
    "output_totals",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=False),
    Column("bytes", BigInteger, nullable=False),
    Column("dropped_rev", Integer, nullable=False),
    Column("dropped_apply", Integer, nullable=False),
    PrimaryKeyConstraint("id", name="pk_output_totals"),
    CheckConstraint("id = 1", name="ck_output_totals_one_row"),
)
"""One row (``id = 1``): the bytes ``action_output`` holds, and the newest revision and
apply whose output the store-wide cap has dropped (0: none), so ``logs`` can say so."""

store_keys = Table(
    "store_keys",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=False),
    Column("store_id", Text, nullable=False),
    Column("wrapped_key", Text, nullable=True),
    PrimaryKeyConstraint("id", name="pk_store_keys"),
    CheckConstraint("id = 1", name="ck_store_keys_one_row"),
)
"""One row (``id = 1``, schema revision 0006): the store's random id, which names its key
file, and its data key wrapped under that key file (NULL until the first secret)."""

chain_upgrades = Table(
    "chain_upgrades",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("old_rev", Integer, nullable=False),
    Column("old_hash", Text, nullable=False),
    Column("new_hash", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Text, nullable=False),
    PrimaryKeyConstraint("id", name="pk_chain_upgrades"),
)
"""Each re-encoding of the log that changed its hashes (schema revision 0006): the head
before (revision, hash) and its hash after, so the chain still proves continuity."""
stack_outputs = Table(
    "stack_outputs",
    metadata,
    Column("name", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("definition", Text, nullable=False),
    PrimaryKeyConstraint("name", name="pk_stack_outputs"),
)
"""The outputs of the stack file last staged (schema revision 0010): name, place in the
file, definition as JSON (see :class:`retrograde.model.outputs.OutputDef`). Replaced as a
whole by every stage of a stack file; outside the hash chain and never exported."""
tokens = Table(
    "tokens",
    metadata,
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("created", Text, nullable=False),
    Column("expires", Text, nullable=True),
    Column("last_used", Text, nullable=True),
    PrimaryKeyConstraint("name", name="pk_tokens"),
    Index("ix_tokens_digest", "digest", unique=True),
    CheckConstraint("role IN ('reader', 'operator', 'admin')", name="ck_tokens_role"),
)
"""API tokens (schema revision 0011): the SHA-256 digest of each secret, never the secret.
``expires`` and ``last_used`` are timestamps in the log's format (NULL: never)."""
chain_entries = Table(
    "chain_entries",
    metadata,
    Column("seq", Integer, nullable=False, autoincrement=False),
    Column("after_rev", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    PrimaryKeyConstraint("seq", name="pk_chain_entries"),
    Index("ix_chain_entries_kind_key_seq", "kind", "key", "seq"),
)
"""Type definitions, checkpoints and apply records as hash-chain entries (schema revision
0012; :mod:`retrograde.model.chain`). ``seq`` is gapless and assigned by the store; an
entry sits in the chain after commit ``after_rev``. ``(kind, key, seq)`` finds the latest
entry of a record. Inserted, never updated or deleted."""

signatures = Table(
    "signatures",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("rev", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("signed_at", Text, nullable=False),
    PrimaryKeyConstraint("id", name="pk_signatures"),
    Index("ix_signatures_rev_seq", "rev", "seq"),
)
"""Ed25519 signatures of chain heads (schema revision 0012), beside the chain, not in it:
a write turn that adds to the chain signs the head it leaves (``rev``, ``seq``, ``hash``)
with the key of ``RETROGRADE_SIGNING_KEY``; ``public_key`` is the raw 32-byte key."""
