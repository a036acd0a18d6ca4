"""Committed state and stored type definitions in SQL: one row per resource, per type version."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, tuple_

from retrograde.model.chain import EntryKind, type_key
from retrograde.model.change import ActionName, Change
from retrograde.model.outputs import OutputDef
from retrograde.model.state import ResourceState, StateText
from retrograde.model.types import ResourceType, TypeKey
from retrograde.planning.moves import apply_move
from retrograde.storage.sql import chain, rows
from retrograde.storage.sql.importing import put_state
from retrograde.storage.sql.schema import resources, stack_outputs
from retrograde.storage.sql.schema import types as types_table
from retrograde.storage.sql.statements import (
    chunks,
    execute_many,
    keyed_delete,
    select_by_key,
    upsert,
    upsert_many,
)

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

_ALL_TYPES = select(types_table)
"""Built once: every cached server answer, and most verbs, read every type."""


class SqlState:
    """:class:`retrograde.storage.repositories.StateRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def load(self, names: Collection[str] | None = None) -> dict[str, ResourceState]:
        found = select_by_key(self._c.conn, resources, resources.c.name, names)
        return {row["name"]: rows.state_from_row(row) for row in found}

    def texts(self, names: Collection[str] | None = None) -> list[StateText]:
        query = select(*(resources.c[column] for column in StateText._fields))
        if names is None:
            found = list(self._c.conn.execute(query))
        else:
            found = []
            for chunk in chunks(set(names)):
                found.extend(self._c.conn.execute(query.where(resources.c.name.in_(chunk))))
        return sorted(map(StateText._make, found), key=itemgetter(0))

    def apply(self, changes: Sequence[Change]) -> None:
        after = self._after(changes)
        gone = [{"k_name": name} for name, state in after.items() if state is None]
        kept = [rows.state_row(name, state) for name, state in after.items() if state is not None]
        conn = self._c.writing()
        execute_many(conn, keyed_delete(resources, "name"), gone)
        upsert_many(conn, resources, ("name",), kept)

    def _after(self, changes: Sequence[Change]) -> dict[str, ResourceState | None]:
        """Each touched name's state after ``changes`` (None: gone). A move also removes its
        former name and rewrites its consumers' connections (loaded in one query)."""
        moves = [change for change in changes if change.action is ActionName.MOVE]
        if not moves:
            return {change.resource: change.after for change in changes}
        loaded = self.load({name for change in moves for name in change.consumers})
        after: dict[str, ResourceState | None] = {}
        for change in changes:
            if change.action is not ActionName.MOVE or change.moved_from is None:
                after[change.resource] = change.after
                continue
            assert change.after is not None
            work = {}
            for name in change.consumers:
                state = after[name] if name in after else loaded.get(name)
                if state is not None:
                    work[name] = state
            apply_move(work, change.moved_from, change.resource, change.after, change.consumers)
            after.update(work)
            after[change.moved_from] = None
        return after

    def put(self, states: Mapping[str, ResourceState | None]) -> None:
        put_state(self._c.writing(), states)

    def types(self, keys: Collection[TypeKey] | None = None) -> dict[TypeKey, ResourceType]:
        query = _ALL_TYPES
        if keys is None:
            found = list(self._c.conn.execute(query).mappings())
        else:
            found = []
            for chunk in chunks(set(keys)):
                where = tuple_(types_table.c.name, types_table.c.version).in_(chunk)
                found.extend(self._c.conn.execute(query.where(where)).mappings())
        return {(row["name"], int(row["version"])): rows.type_from_row(row) for row in found}

    def save_types(self, types: Collection[ResourceType]) -> None:
        type_rows = {(t.name, t.version): rows.type_row(t) for t in types}
        if type_rows:
            statement = upsert(self._c.dialect, types_table, ("name", "version"))
            conn = self._c.writing()
            conn.execute(statement, [*type_rows.values()])
            changed = {type_key(t.name, t.version): dict(t.to_json()) for t in types}
            chain.note(conn, EntryKind.TYPE, changed, only_chained=True)

    def outputs(self) -> list[OutputDef]:
        query = select(stack_outputs).order_by(stack_outputs.c.position)
        return [
            OutputDef.from_json(row["name"], rows.load(row["definition"]))
            for row in self._c.conn.execute(query).mappings()
        ]

    def save_outputs(self, outputs: Sequence[OutputDef]) -> None:
        conn = self._c.writing()
        conn.execute(delete(stack_outputs))
        if outputs:
            written = [
                {"name": o.name, "position": i, "definition": rows.dump(o.to_json())}
                for i, o in enumerate(outputs)
            ]
            conn.execute(insert(stack_outputs), written)
