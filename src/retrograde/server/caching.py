"""Rendered answers of read routes, kept while what decides them stays the same.

Committed state and the log change only with the log's head (every change is
a commit, in the same transaction as the state it leaves), and what an
answer masks depends only on which inputs the stored types declare secret.
So an answer rendered for ``(route, parameters, head, secrets)`` is the
answer for as long as those stay the same: a dashboard polling the first
page of the log, or the state, costs one small read (head and types) instead
of decoding commits or thousands of resources again. Entries are few (LRU)
and bounded in bytes, so a client asking many different questions only
evicts.

A GET reads that version in the transaction its token is checked in
(:class:`~retrograde.server.auth.Authenticator`), so a cached answer costs
the request one read transaction and no trip through the thread pool.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from retrograde.commands.context import Context
from retrograde.commands.views import Secrets
from retrograde.storage.base import Transaction

MAX_ENTRIES = 256
MAX_BYTES = 64 * 1024 * 1024
"""Together the cached answers hold at most this much; a larger answer is not kept."""

Key = tuple[Hashable, ...]


Version = tuple[Key, Secrets]
"""What decides every read answer now, and the secrets to mask answers with."""


def version(ctx: Context) -> Version:
    """What decides every read answer now (head and secret inputs), and the secrets, from one
    read."""
    with ctx.store.read() as tx:
        return version_in(tx)


def version_in(tx: Transaction) -> Version:
    """:func:`version` within ``tx`` (the transaction a GET's token is checked in)."""
    head = tx.log.head()
    types = tx.state.types()
    hidden = tuple(sorted((key, tuple(sorted(t.secrets))) for key, t in types.items()))
    return (head, hidden), Secrets(types)


class AnswerCache:
    """Rendered answers by key, least recently used evicted first; thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def found(self, key: Key, current: Key) -> bytes | None:
        """The answer of ``key`` kept at version ``current``, if any (no I/O)."""
        full = (*key, current)
        with self._lock:
            found = self._entries.get(full)
            if found is not None:
                self._entries.move_to_end(full)
            return found

    def answer(
        self,
        ctx: Context,
        key: Key,
        render: Callable[[Secrets], bytes],
        known: Version | None = None,
    ) -> bytes:
        """The cached answer of ``key`` at the store's current version (``known``, when just
        read), rendered when new."""
        current, secrets = known or version(ctx)
        found = self.found(key, current)
        if found is not None:
            return found
        rendered = render(secrets)
        self._keep((*key, current), rendered)
        return rendered

    def _keep(self, key: Key, value: bytes) -> None:
        if len(value) > self._max_bytes // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._bytes += len(value)
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
