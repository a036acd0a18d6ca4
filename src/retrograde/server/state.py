"""What one running app holds: the store, its settings, page sessions and background jobs."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from retrograde.commands.context import Context
from retrograde.config import Principal
from retrograde.server.auth import Sessions
from retrograde.server.caching import AnswerCache
from retrograde.server.jobs import Jobs
from retrograde.server.settings import ServerSettings
from retrograde.storage.base import Store, Transaction


class SerialisedStore:
    """A store whose write transactions this process opens one at a time.

    On SQLite a second writer would otherwise wait inside the database's busy
    timeout, polling; here it queues on a lock, and the busy timeout is left
    for writers in other processes (whose holder the error names).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._writers = threading.RLock()
        self.url = store.url

    def read(self) -> contextlib.AbstractContextManager[Transaction]:
        return self._store.read()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Transaction]:
        with self._writers, self._store.write() as tx:
            yield tx

    def write(self) -> contextlib.AbstractContextManager[Transaction]:
        return self._write()

    def scrub(self) -> None:
        with self._writers:
            self._store.scrub()

    def close(self) -> None:
        self._store.close()


@dataclass
class ServerState:
    """The app's store (serialised when the settings say so), sessions and jobs."""

    store: Store
    settings: ServerSettings
    sessions: Sessions = field(init=False)
    jobs: Jobs = field(default_factory=Jobs)
    answers: AnswerCache = field(default_factory=AnswerCache)

    def __post_init__(self) -> None:
        if self.settings.serialise_writes and not isinstance(self.store, SerialisedStore):
            self.store = SerialisedStore(self.store)
        self.sessions = Sessions(self.settings.session_seconds)

    def context_for(self, principal: str) -> Context:
        """A context on the shared store acting as ``principal`` (never closed per request)."""
        proven = Principal(principal, "token")
        return Context(store=self.store, principal=proven, cwd=self.settings.stacks_root)
