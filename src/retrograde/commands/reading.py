"""Verbs that read committed state and history: state, log, show."""

from __future__ import annotations

from dataclasses import dataclass

from retrograde.commands.context import Context
from retrograde.commands.views import Secrets, state_json_bytes
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


def state_json(ctx: Context, secrets: Secrets, resource: str | None = None) -> bytes:
    """``state --json`` of every resource, or of one, as compact JSON (secrets masked): the
    rows go from the store into the answer undecoded (see :func:`views.state_json_bytes`)."""
    with ctx.store.read() as tx:
        rev, _ = tx.log.head()
        texts = tx.state.texts([resource] if resource else None)
    if resource and not texts:
        raise NotFoundError("resource", resource)
    return state_json_bytes(rev, texts, secrets)


def log(ctx: Context, query: LogQuery | None = None) -> list[Commit]:
    """Commits matching ``query``, newest first."""
    with ctx.store.read() as tx:
        return tx.log.search(query or LogQuery())


def show(ctx: Context, rev: int) -> Commit:
    """One commit by revision (:class:`NotFoundError` when there is none)."""
    with ctx.store.read() as tx:
        return tx.log.get(check_number("revision", rev))
