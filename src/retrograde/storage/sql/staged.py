"""The staged log in SQL: one row per resource with a staged change, and the staged moves
(``staged_moves``, one row per rename in the order it is to be committed)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from retrograde.model.change import Change
from retrograde.model.types import TypeKey
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import staged, staged_moves
from retrograde.storage.sql.statements import IN_CHUNK, execute_many, keyed_delete, select_by_key

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected


class SqlStaged:
    """:class:`retrograde.storage.staged_repository.StagedRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def load(self) -> dict[str, Change]:
        found = self._c.conn.execute(select(staged)).mappings().all()
        return {row["resource"]: rows.change_from_row(row) for row in found}

    def moves(self) -> list[Change]:
        query = select(staged_moves.c.change).order_by(staged_moves.c.seq)
        return [rows.change_from_row(row) for row in self._c.conn.execute(query).mappings()]

    def count(self) -> int:
        conn = self._c.conn
        counted = [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _BOTH]
        return sum(int(n) for n in counted)

    def replace(self, changes: Sequence[Change], moves: Sequence[Change] | None = ()) -> None:
        conn = self._c.writing()
        conn.execute(delete(staged))
        if changes:
            conn.execute(staged.insert(), [rows.staged_row(c) for c in changes])
        if moves is not None:
            conn.execute(delete(staged_moves))
        if moves:
            conn.execute(
                staged_moves.insert(),
                [rows.staged_move_row(seq, c) for seq, c in enumerate(moves, 1)],
            )

    def discard(self, names: Collection[str] | None = None) -> list[str]:
        conn = self._c.writing()
        found = select_by_key(conn, staged, staged.c.resource, names, [staged.c.resource])
        present = [row["resource"] for row in found]
        if present:
            conn.execute(keyed_delete(staged, "resource"), [{"k_resource": n} for n in present])
        if names is None:
            moved = conn.execute(select(staged_moves.c.resource)).scalars().all()
            conn.execute(delete(staged_moves))
            present = list({*present, *moved})
        return sorted(present)

    def remove(self, names: Collection[str]) -> None:
        if names:
            params = [{"k_resource": name} for name in names]
            execute_many(self._c.writing(), keyed_delete(staged, "resource"), params)

    def remove_moves(self) -> None:
        self._c.writing().execute(delete(staged_moves))

    def kinds(self, names: Collection[str]) -> dict[str, TypeKey]:
        if not names:
            return {}
        columns = [staged.c.resource, staged.c.type, staged.c.version]
        if len(names) <= IN_CHUNK:
            found = select_by_key(self._c.conn, staged, staged.c.resource, names, columns)
            return {row["resource"]: (row["type"], int(row["version"])) for row in found}
        # Many names (an apply's whole plan): one scan of three narrow columns beats an IN
        # list per 500 names; the staged log holds at least as many rows as are asked for.
        wanted = set(names)
        scanned = self._c.conn.execute(select(*columns))
        return {str(r): (str(t), int(v)) for r, t, v in scanned if r in wanted}


_BOTH = (staged, staged_moves)
