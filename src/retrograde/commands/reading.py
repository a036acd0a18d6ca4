"""Verbs that read committed state and history: state, log, show."""

from __future__ import annotations

from dataclasses import dataclass

from retrograde.commands.context import Context
from retrograde.errors import NotFoundError
from retrograde.model.commit import Commit
from retrograde.model.numbers import check_number
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """Committed state as of revision ``rev``."""

    rev: int
    resources: dict[str, ResourceState]


def state(ctx: Context, resource: str | None = None) -> StateSnapshot:
    """Committed state of every resource, or of one (unknown names are an error)."""
    with ctx.store.read() as tx:
        rev, _ = tx.log.head()
        resources = tx.state.load([resource] if resource else None)
    if resource and resource not in resources:
        raise NotFoundError("resource", resource)
    return StateSnapshot(rev=rev, resources=dict(sorted(resources.items())))


def log(ctx: Context, query: LogQuery | None = None) -> list[Commit]:
    """Commits matching ``query``, newest first."""
    with ctx.store.read() as tx:
        return tx.log.search(query or LogQuery())


def show(ctx: Context, rev: int) -> Commit:
    """One commit by revision (:class:`NotFoundError` when there is none)."""
    with ctx.store.read() as tx:
        return tx.log.get(check_number("revision", rev))
