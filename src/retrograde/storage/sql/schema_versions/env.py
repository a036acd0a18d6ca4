"""Alembic environment for the store: migrations run on the connection retrograde hands in.

:func:`retrograde.storage.sql.upgrade.upgrade_to_head` opens the transaction (and
takes the migration lock) itself and passes its connection as
``config.attributes["connection"]``, so every back end goes through this one
path.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from retrograde.storage.sql.schema import metadata


def run_migrations() -> None:
    """Run the pending migrations inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("retrograde migrations need config.attributes['connection']")
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
