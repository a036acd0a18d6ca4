"""The store: committed state, staged log, applies with their journal, and the commit log.

- :mod:`~retrograde.storage.base`: the ``Store`` contract (no driver imports).
- :mod:`~retrograde.storage.connect`: ``open_store(url)``, the entry point.
- :mod:`~retrograde.storage.sql`: ``SqlStore``, the one implementation (SQLite, PostgreSQL).
- :mod:`~retrograde.storage.sql.schema` and ``migrations/``: the tables and their one Alembic path.

Nothing is re-exported here, so importing the contract never loads SQLAlchemy.
"""
