"""The store's key record and chain upgrades in SQL (``store_keys``, ``chain_upgrades``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from retrograde.model.keys import ChainUpgrade, StoreKeys
from retrograde.storage.sql.schema import chain_upgrades, store_keys

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected


class SqlKeys:
    """:class:`retrograde.storage.repositories.KeysRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def load(self) -> StoreKeys:
        return load_keys(self._c.conn)

    def save(self, keys: StoreKeys) -> None:
        save_keys(self._c.writing(), keys)

    def upgrades(self) -> list[ChainUpgrade]:
        rows = self._c.conn.execute(select(chain_upgrades).order_by(chain_upgrades.c.id))
        return [ChainUpgrade(r.old_rev, r.old_hash, r.new_hash, r.reason, r.at) for r in rows]

    def record_upgrade(self, upgrade: ChainUpgrade) -> None:
        record_chain_upgrade(self._c.writing(), upgrade)


def load_keys(conn: Connection) -> StoreKeys:
    """The store's one key record (inserted by schema revision 0006)."""
    row = conn.execute(select(store_keys.c.store_id, store_keys.c.wrapped_key)).one()
    return StoreKeys(row.store_id, row.wrapped_key)


def save_keys(conn: Connection, keys: StoreKeys) -> None:
    conn.execute(
        store_keys.update()
        .where(store_keys.c.id == 1)
        .values(store_id=keys.store_id, wrapped_key=keys.wrapped_key)
    )


def record_chain_upgrade(conn: Connection, upgrade: ChainUpgrade) -> None:
    """Keep the record of one re-encoding of the log (see :class:`ChainUpgrade`)."""
    conn.execute(chain_upgrades.insert().values(upgrade.to_json()))
