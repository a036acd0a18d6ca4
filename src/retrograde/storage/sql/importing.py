"""The SQL side of import: apply records and committed state loaded as given.

:mod:`retrograde.history.importing` checks every line before any of it
reaches these (commits go in through :meth:`SqlLog.load`); here each batch is one
``executemany``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, text

from retrograde.model.apply import APPLY_FIELDS
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.state import ResourceState
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import applies, resources
from retrograde.storage.sql.statements import insert_many, keyed_delete, upsert_many

_ADVANCE_APPLY_IDS = "SELECT setval(pg_get_serial_sequence('applies', 'id'), max(id)) FROM applies"
"""PostgreSQL: explicit ids do not move the id sequence; the next apply must follow them."""


def load_applies(conn: Connection, records: Sequence[JSONObject]) -> None:
    """Insert apply records (ids kept); PostgreSQL's id sequence moves past them."""
    if not records:
        return
    found = [
        {
            **{key: record[key] for key in APPLY_FIELDS},
            "failures": rows.dump(record["failures"]),
            "principal_source": record.get("principal_source"),
        }
        for record in records
    ]
    insert_many(conn, applies, found)
    if conn.dialect.name == "postgresql":
        conn.execute(text(_ADVANCE_APPLY_IDS))


def put_state(conn: Connection, states: Mapping[str, ResourceState | None]) -> None:
    """Committed state of each named resource becomes the given one (None deletes it)."""
    gone = [{"k_name": name} for name, state in states.items() if state is None]
    kept = [rows.state_row(n, s) for n, s in sorted(states.items()) if s is not None]
    if gone:
        conn.execute(keyed_delete(resources, "name"), gone)
    if kept:
        upsert_many(conn, resources, ("name",), kept)
