"""The store methods of the history verbs: applies, blame, export, import, verify.

:class:`HistoryMethods` is a base class of
:class:`~retrograde.storage.sql.SqlStore`; each method is one transaction and
calls the query functions of :mod:`~retrograde.storage.history`,
:mod:`~retrograde.storage.export`, :mod:`~retrograde.storage.importing` and
:mod:`~retrograde.storage.verify`. Export and verify read in one transaction
that sees one moment of the store (PostgreSQL: repeatable read; SQLite: one
read transaction on the WAL), so a concurrent apply cannot make them see a
log and a state that disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine, func, select

from retrograde.errors import NotFoundError
from retrograde.model.apply import ApplyRecord
from retrograde.model.history import Blame, TransferReport, VerifyReport
from retrograde.storage import export, history, importing, rows, verify
from retrograde.storage.driver_errors import translated
from retrograde.storage.schema import commits, resources


class HistoryMethods(ABC):
    """History methods of the Store contract (see storage/base.py)."""

    url: str

    @property
    @abstractmethod
    def engine(self) -> Engine:
        """The engine the store runs on."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Connection]:
        """A connection for reading."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Connection]:
        """A connection inside one write transaction."""

    @abstractmethod
    def _lock_log(self, conn: Connection) -> None:
        """Serialise writers of the commit log inside ``conn``'s transaction."""

    def list_applies(self, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
        with self._read() as conn:
            return history.list_applies(conn, before=before, limit=limit)

    def blame(self, resource: str) -> Blame:
        with self._read() as conn:
            query = select(resources).where(resources.c.name == resource)
            row = conn.execute(query).mappings().first()
            if row is None:
                raise NotFoundError("resource", resource)
            state = rows.state_from_row(row)
            found = history.blame(conn, resource, state.inputs)
        return Blame(resource, state, {name: found.get(name) for name in state.inputs})

    def export_log(
        self, write: Callable[[bytes], object], *, after_rev: int, exported_at: str
    ) -> TransferReport:
        with self._consistent_read() as conn:
            head = int(conn.execute(select(func.max(commits.c.rev))).scalar() or 0)
            if not 0 <= after_rev <= head:
                raise NotFoundError("revision", after_rev)
            return export.export_segment(
                conn, write, after_rev=after_rev, upto_rev=head, exported_at=exported_at
            )

    def import_log(self, lines: Iterable[bytes], *, source: str) -> TransferReport:
        with self._write() as conn:
            self._lock_log(conn)
            return importing.import_lines(conn, lines, source=source)

    def verify(self) -> VerifyReport:
        with self._consistent_read() as conn:
            return verify.verify_store(conn)

    @contextmanager
    def _consistent_read(self) -> Iterator[Connection]:
        with translated(self.url, "read"), self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
