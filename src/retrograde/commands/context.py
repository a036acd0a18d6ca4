"""The context every verb takes first: the open store, who acts, where."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType

from retrograde import config
from retrograde.storage.base import Store
from retrograde.storage.connect import open_store
from retrograde.storage.keys import Keyring


@dataclass
class Context:
    """An open store plus the principal acting on it. Close it (or use ``with``)."""

    store: Store
    principal: str
    cwd: Path

    @cached_property
    def keys(self) -> Keyring:
        """The store's secret key, found on first need (see :mod:`retrograde.storage.keys`)."""
        return Keyring(self.store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_context(
    db: str | None = None, *, cwd: Path | None = None, principal: str | None = None
) -> Context:
    """Open the store named by ``db`` / ``RETROGRADE_DB`` / the embedded default under ``cwd``."""
    base = cwd if cwd is not None else Path.cwd()
    store = open_store(config.database_url(db, cwd=base))
    return Context(store=store, principal=config.principal(principal), cwd=base)
