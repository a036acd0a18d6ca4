"""The store on SQLAlchemy Core (SQLite and PostgreSQL): one module per repository."""
