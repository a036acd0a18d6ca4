"""One transaction of the SQL store: its connection and its repositories."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from retrograde.errors import StateError

if TYPE_CHECKING:  # each repository's module is imported on the transaction's first use of it
    from retrograde.storage.sql.applies import SqlApplies
    from retrograde.storage.sql.checkpoints import SqlCheckpoints
    from retrograde.storage.sql.keys import SqlKeys
    from retrograde.storage.sql.locks import SqlLock
    from retrograde.storage.sql.log import SqlLog
    from retrograde.storage.sql.output import SqlOutput
    from retrograde.storage.sql.signatures import SqlChain
    from retrograde.storage.sql.snapshots import SqlSnapshots
    from retrograde.storage.sql.staged import SqlStaged
    from retrograde.storage.sql.state import SqlState
    from retrograde.storage.sql.tokens import SqlTokens


@dataclass(frozen=True, slots=True)
class Connected:
    """The connection of one transaction, and whether the transaction may write."""

    conn: Connection
    writable: bool

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def writing(self) -> Connection:
        """The connection, for a statement that changes something; refused in a read."""
        if not self.writable:
            raise StateError("a read transaction cannot change the store")
        return self.conn


class SqlTransaction:
    """:class:`retrograde.storage.base.Transaction` over one SQLAlchemy connection."""

    def __init__(self, conn: Connection, *, writable: bool) -> None:
        self.connected = Connected(conn, writable)

    @cached_property
    def state(self) -> SqlState:
        from retrograde.storage.sql.state import SqlState

        return SqlState(self.connected)

    @cached_property
    def staged(self) -> SqlStaged:
        from retrograde.storage.sql.staged import SqlStaged

        return SqlStaged(self.connected)

    @cached_property
    def log(self) -> SqlLog:
        from retrograde.storage.sql.log import SqlLog

        return SqlLog(self.connected)

    @cached_property
    def applies(self) -> SqlApplies:
        from retrograde.storage.sql.applies import SqlApplies

        return SqlApplies(self.connected)

    @cached_property
    def lock(self) -> SqlLock:
        from retrograde.storage.sql.locks import SqlLock

        return SqlLock(self.connected)

    @cached_property
    def checkpoints(self) -> SqlCheckpoints:
        from retrograde.storage.sql.checkpoints import SqlCheckpoints

        return SqlCheckpoints(self.connected, self.log)

    @cached_property
    def snapshots(self) -> SqlSnapshots:
        from retrograde.storage.sql.snapshots import SqlSnapshots

        return SqlSnapshots(self.connected, self.log)

    @cached_property
    def chain(self) -> SqlChain:
        from retrograde.storage.sql.signatures import SqlChain

        return SqlChain(self.connected)

    @cached_property
    def output(self) -> SqlOutput:
        from retrograde.storage.sql.output import SqlOutput

        return SqlOutput(self.connected)

    @cached_property
    def keys(self) -> SqlKeys:
        from retrograde.storage.sql.keys import SqlKeys

        return SqlKeys(self.connected)

    @cached_property
    def tokens(self) -> SqlTokens:
        from retrograde.storage.sql.tokens import SqlTokens

        return SqlTokens(self.connected)


def sql_connection(tx: object) -> Connection:
    """The connection of a SQL store's transaction (for the log's bulk readers and loaders)."""
    if not isinstance(tx, SqlTransaction):
        raise StateError(f"not a transaction of the SQL store: {type(tx).__name__}")
    return tx.connected.conn
