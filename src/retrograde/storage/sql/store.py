"""The store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

A write transaction takes SQLite's write lock up front (``BEGIN IMMEDIATE``,
see :mod:`retrograde.storage.sql.database`); a read transaction is one
snapshot (SQLite: a deferred transaction on the WAL; PostgreSQL: REPEATABLE
READ READ ONLY). Driver errors leave as :class:`StoreError`: a write on a
read-only store as :class:`ReadOnlyStoreError` (before anything is tried, when
the store was opened read-only), one that waited out the busy timeout as
:class:`StoreBusyError` naming the store lock's holder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine

from retrograde.clock import utc_now
from retrograde.errors import ReadOnlyStoreError, StoreError
from retrograde.storage.signing import Signature, append_witness, configured_signer, witness_path
from retrograde.storage.sql.busy import busy_error
from retrograde.storage.sql.chain import GREW
from retrograde.storage.sql.database import writer
from retrograde.storage.sql.driver_errors import mask_password, translated
from retrograde.storage.sql.signatures import sign_head
from retrograde.storage.sql.transaction import SqlTransaction
from retrograde.storage.sql.upgrade import scrub


class SqlStore:
    """:class:`retrograde.storage.base.Store` on one SQLAlchemy engine.

    Open it with :func:`retrograde.storage.connect.open_store`, which also
    brings the schema up to date.
    """

    def __init__(self, engine: Engine, *, url: str, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self._engine = engine
        self._writer = writer(engine)
        self._signer = configured_signer()
        self._witness = witness_path()

    @property
    def engine(self) -> Engine:
        """The underlying engine (for diagnostics and tests; domain code uses transactions)."""
        return self._engine

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with translated(self.url, "read"), self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield SqlTransaction(conn, writable=False)

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        if self.read_only:
            raise ReadOnlyStoreError(mask_password(self.url))
        signed: Signature | None = None
        with translated(self.url, "write to", busy=self._busy), self._writer.begin() as conn:
            conn.info.pop(GREW, None)
            yield SqlTransaction(conn, writable=True)
            if conn.info.pop(GREW, False):
                signed = self._sign(conn)
        if signed is not None and self._witness is not None:
            append_witness(self._witness, signed)

    def _sign(self, conn: Connection) -> Signature | None:
        """Sign the head a transaction that grew the chain leaves, with the configured key."""
        if self._signer is None:
            return None
        return sign_head(conn, self._signer, utc_now())

    def _busy(self, _error: BaseException) -> StoreError:
        return busy_error(self._engine, self.url)

    def close(self) -> None:
        self._engine.dispose()

    def scrub(self) -> None:
        if not self.read_only:
            with translated(self.url, "write to", busy=self._busy):
                scrub(self._engine)

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlStore({mask_password(self.url)!r})"
