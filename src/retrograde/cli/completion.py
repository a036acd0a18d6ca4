"""Shell completion of the names a verb takes: resources, revisions, checkpoints.

click completes verbs and options itself (``_RETROGRADE_COMPLETE=bash_source
retrograde``, see docs/cli.md); the functions here are the ``shell_complete``
of arguments that name something in the store. Each opens the store the
command line names (``--db`` before or after the verb, else ``RETROGRADE_DB``,
else the default), reads in one short read transaction, and offers the names
that start with what was typed. Completion never creates a store and never
fails: a store that is missing or unreadable offers nothing, since a
traceback in the middle of a command line helps nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

from retrograde import config

if TYPE_CHECKING:
    from retrograde.storage.base import Store, Transaction

SQLITE_FILE = "sqlite:///"
RECENT = 50
"""Revisions offered: the newest ones (completion is for what one is about to type)."""


def resources(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Committed resources whose names start with ``incomplete``, with their type."""

    def read(tx: Transaction) -> list[CompletionItem]:
        return [
            CompletionItem(name, help=f"{state.type} v{state.version}")
            for name, state in sorted(tx.state.load().items())
            if name.startswith(incomplete)
        ]

    return _reading(ctx, read)


def staged_resources(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Resources with a staged change (``discard R``), with the change's action."""

    def read(tx: Transaction) -> list[CompletionItem]:
        return [
            CompletionItem(name, help=change.action.value)
            for name, change in sorted(tx.staged.load().items())
            if name.startswith(incomplete)
        ]

    return _reading(ctx, read)


def revisions(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The newest revisions that start with ``incomplete``: ``action resource`` as help."""
    return _reading(ctx, lambda tx: _revisions(tx, incomplete))


def checkpoints_or_revisions(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Checkpoint names (with their revision), then the newest revisions."""

    def read(tx: Transaction) -> list[CompletionItem]:
        named = [
            CompletionItem(c.name, help=f"rev {c.rev} {c.description}".rstrip())
            for c in tx.checkpoints.list()
            if c.name.startswith(incomplete)
        ]
        return named + _revisions(tx, incomplete)

    return _reading(ctx, read)


def _revisions(tx: Transaction, incomplete: str) -> list[CompletionItem]:
    from retrograde.model.query import LogQuery

    return [
        CompletionItem(str(c.rev), help=f"{c.action.value} {c.resource}")
        for c in tx.log.search(LogQuery(limit=RECENT))
        if str(c.rev).startswith(incomplete)
    ]


def _reading(
    ctx: click.Context, read: Callable[[Transaction], list[CompletionItem]]
) -> list[CompletionItem]:
    """``read`` in a read transaction of the named store; nothing when it cannot be read."""
    try:
        with _store(ctx) as store:
            if store is None:
                return []
            with store.read() as tx:
                return read(tx)
    except Exception:  # a completion never fails: see the module docstring
        return []


@contextmanager
def _store(ctx: click.Context) -> Iterator[Store | None]:
    """The store the command line names, if it exists (an embedded file is never created)."""
    from retrograde.storage.connect import open_store

    url = config.database_url(_db(ctx))
    if url.startswith(SQLITE_FILE) and not Path(url[len(SQLITE_FILE) :].split("?")[0]).exists():
        yield None
        return
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()


def _db(ctx: click.Context) -> str | None:
    """``--db`` as typed after the verb (kept in ``ctx.meta``), else before it."""
    after = ctx.meta.get("retrograde.db")
    if isinstance(after, str):
        return after
    before = ctx.find_root().params.get("db")
    return before if isinstance(before, str) else None
