"""Signatures of chain heads in SQL, and the chain repository of a transaction.

Signing happens when a write transaction that grew the chain ends
(:meth:`retrograde.storage.sql.store.SqlStore.write`): anything that appends
commits or entries marks the connection, and the store signs the head it
leaves with the configured key, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from retrograde.model.chain import ChainEntry, ChainPoint
from retrograde.model.jsonvalue import JSONObject
from retrograde.storage.signing import Signature, Signer
from retrograde.storage.sql import chain, rows
from retrograde.storage.sql.chain_upgrade import chain_stored, chain_upgrade
from retrograde.storage.sql.schema import signatures

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected


def mark_grown(conn: Connection) -> None:
    conn.info[chain.GREW] = True


def sign_head(conn: Connection, signer: Signer, signed_at: str) -> Signature:
    """Sign the chain head and keep the signature."""
    signature = signer.sign(chain.chain_head(conn), signed_at)
    insert(conn, [signature])
    return signature


def insert(conn: Connection, found: Sequence[Signature]) -> None:
    if found:
        conn.execute(
            signatures.insert(),
            [
                {
                    "rev": s.point.rev,
                    "seq": s.point.seq,
                    "hash": bytes.fromhex(s.point.hash),
                    "public_key": s.public_key,
                    "signature": s.signature,
                    "signed_at": s.signed_at,
                }
                for s in found
            ],
        )


def stored(conn: Connection) -> list[Signature]:
    """Every signature, in the order they were made."""
    query = select(signatures).order_by(signatures.c.id)
    return [
        Signature(
            ChainPoint(int(row.rev), int(row.seq), rows.hash_text(row.hash)),
            bytes(row.public_key),
            bytes(row.signature),
            row.signed_at,
        )
        for row in conn.execute(query)
    ]


class SqlChain:
    """:class:`retrograde.storage.repositories.ChainRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def head(self) -> ChainPoint:
        return chain.chain_head(self._c.conn)

    def entries(self) -> Iterator[ChainEntry]:
        return chain.entries(self._c.conn)

    def count(self) -> int:
        return chain.entry_count(self._c.conn)

    def records(self) -> dict[str, dict[str, JSONObject]]:
        return chain.stored_records(self._c.conn)

    def load(self, entries: Sequence[ChainEntry]) -> None:
        conn = self._c.writing()
        chain.load(conn, entries)
        if entries:
            mark_grown(conn)

    def upgrade(self, reason: str) -> ChainEntry:
        conn = self._c.writing()
        mark_grown(conn)
        return chain_upgrade(conn, reason)

    def chain_stored(self, *, applies_too: bool = True) -> list[ChainEntry]:
        conn = self._c.writing()
        made = chain_stored(conn, applies_too=applies_too)
        if made:
            mark_grown(conn)
        return made

    def signatures(self) -> list[Signature]:
        return stored(self._c.conn)

    def load_signatures(self, found: Sequence[Signature]) -> None:
        insert(self._c.writing(), found)
