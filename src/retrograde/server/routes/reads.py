"""Read routes (role ``reader``): state, history, applies, blame, logs, checkpoints, verify.

Each parses its parameters, calls the verb's function once and answers the
verb's ``--json`` shape, rendered by the same views (so secrets are masked).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, cast

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from retrograde.commands import history, history_views, logs, reading, staging, timetravel, views
from retrograde.commands.context import Context
from retrograde.commands.rollback import checkpoints
from retrograde.commands.rollback_views import checkpoints_json, revision_diff_json
from retrograde.commands.views import Secrets
from retrograde.model.change import ActionName
from retrograde.model.query import LogQuery
from retrograde.model.tokens import Role
from retrograde.server import schemas
from retrograde.server.auth import seen_with_token
from retrograde.server.caching import Key, Version
from retrograde.server.errors import BadRequest
from retrograde.server.rendering import JSON_TYPE, json_bytes, json_response
from retrograde.server.routing import Ctx, operation, secrets_of, server_state

router = APIRouter(prefix="/api", tags=["read"])

MAX_NUMBER = 2**63 - 1
Rev = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="A revision number.")]
ApplyId = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="An apply id.")]
ResourceName = Annotated[str, Path(min_length=1, max_length=1000)]
Target = Annotated[
    str | None, Query(min_length=1, max_length=300, description="A revision or checkpoint.")
]
READ = Role.READER
Render = Callable[[Secrets], bytes]


async def cached(request: Request, ctx: Context, key: Key, render: Render) -> Response:
    """The answer of ``render`` (given the secrets), from the cache while the store's head and
    secret inputs stay the same (see :mod:`retrograde.server.caching`): a kept answer at the
    version read with the token is sent from the event loop; otherwise a worker thread
    renders it."""
    answers = server_state(request).answers
    known = cast(Version | None, seen_with_token(request))  # the app's ``with_get``
    found = answers.found(key, known[0]) if known else None
    if found is None:
        found = await anyio.to_thread.run_sync(answers.answer, ctx, key, render, known)
    return Response(found, media_type=JSON_TYPE)


async def _state(request: Request, ctx: Context, resource: str | None, at: str | None) -> Response:
    def render(secrets: Secrets) -> bytes:
        if at is None:
            return reading.state_json(ctx, secrets, resource)
        snapshot = timetravel.state_at(ctx, at, resource)
        return json_bytes(views.state_json(snapshot.rev, snapshot.resources, secrets))

    return await cached(request, ctx, ("state", resource, at), render)


@router.get("/state", **operation(READ, schemas.State, summary="Committed state (state)"))
async def state(request: Request, ctx: Context = Ctx, at: Target = None) -> Response:
    """Committed state of every resource; with ``at``, as it was at a revision or checkpoint."""
    return await _state(request, ctx, None, at)


@router.get("/state/{resource}", **operation(READ, schemas.State, summary="One resource (state R)"))
async def state_of(
    request: Request, resource: ResourceName, ctx: Context = Ctx, at: Target = None
) -> Response:
    """Committed state of one resource, now or at ``at``."""
    return await _state(request, ctx, resource, at)


@router.get("/diff", **operation(READ, schemas.Changes, summary="Staged changes (diff)"))
def staged_diff(ctx: Context = Ctx) -> Response:
    """The staged changes: per resource, its action and each input's from/to."""
    moves = staging.staged_moves(ctx)
    return json_response(views.changes_json(staging.diff(ctx), secrets_of(ctx), moves))


@router.get(
    "/diff/revisions",
    **operation(READ, schemas.RevisionDiff, summary="Between revisions (diff --from --to)"),
)
def revisions_diff(
    ctx: Context = Ctx,
    from_: Annotated[str | None, Query(alias="from", min_length=1, max_length=300)] = None,
    to: Target = None,
) -> Response:
    """What differs between two revisions or checkpoints (each defaults to the newest)."""
    between = timetravel.diff_revisions(ctx, from_, to)
    return json_response(revision_diff_json(between, secrets_of(ctx)))


Text = Annotated[str | None, Query(min_length=1, max_length=1000)]
RevBound = Annotated[int | None, Query(ge=0, le=MAX_NUMBER)]


@router.get("/log", **operation(READ, schemas.LogPage, summary="Search the log (log)"))
async def log(
    request: Request,
    ctx: Context = Ctx,
    resource: Text = None,
    apply: Annotated[int | None, Query(ge=1, le=MAX_NUMBER)] = None,
    principal: Text = None,
    action: ActionName | None = None,
    input: Text = None,
    rev_from: RevBound = None,
    rev_to: RevBound = None,
    since: Annotated[str | None, Query(max_length=100, description="Time, or 2h ago")] = None,
    until: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_NUMBER, description="Cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> Response:
    """Commits matching every filter given, newest first; ``next`` is the next page's cursor."""
    query = LogQuery(
        resource=resource,
        apply_id=apply,
        principal=principal,
        action=action.value if action else None,
        input=input,
        rev_from=rev_from,
        rev_to=rev_to,
        since=_moment(since, "since", end=False),
        until=_moment(until, "until", end=True),
        before_rev=before,
        limit=limit,
    )

    def render(secrets: Secrets) -> bytes:
        page = history.log_page(ctx, query)
        return json_bytes(history_views.log_page_json(page, secrets))

    return await cached(request, ctx, ("log", query), render)


def _moment(text: str | None, name: str, *, end: bool) -> str | None:
    if text is None:
        return None
    try:
        return history.parse_moment(text, datetime.now(UTC), end=end)
    except ValueError as error:
        raise BadRequest(f"invalid {name} in query: {error}", param=name) from None


@router.get("/commits/{rev}", **operation(READ, schemas.Commit, summary="One commit (show)"))
async def commit(request: Request, rev: Rev, ctx: Context = Ctx) -> Response:
    """One commit with its diff, who, when, which apply and why, and its hash."""

    def render(secrets: Secrets) -> bytes:
        return json_bytes(views.commit_json(reading.show(ctx, rev), secrets))

    return await cached(request, ctx, ("commit", rev), render)


@router.get("/applies", **operation(READ, schemas.AppliesPage, summary="List applies (applies)"))
def applies(
    ctx: Context = Ctx,
    before: Annotated[int | None, Query(ge=1, le=MAX_NUMBER, description="Cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> Response:
    """Applies, newest first: who, why, status, times and counts."""
    return json_response(
        history_views.applies_json(history.applies(ctx, before=before, limit=limit))
    )


@router.get("/applies/{apply_id}", **operation(READ, schemas.ApplyRecord, summary="One apply"))
def apply_record(apply_id: ApplyId, ctx: Context = Ctx) -> Response:
    """One apply, as listed by ``applies``."""
    return json_response(history.apply_record(ctx, apply_id).to_json())


@router.get("/applies/{apply_id}/logs", **operation(READ, schemas.Logs, summary="Logs of an apply"))
def apply_logs(apply_id: ApplyId, ctx: Context = Ctx, resource: Text = None) -> Response:
    """What handlers wrote for every attempt of the apply's actions (of one resource's)."""
    return json_response(logs.logs(ctx, apply_id=apply_id, resource=resource).to_json())


@router.get("/logs/{rev}", **operation(READ, schemas.Logs, summary="Logs of a commit (logs)"))
def commit_logs(rev: Rev, ctx: Context = Ctx) -> Response:
    """What the handler wrote for the action that made commit ``rev``."""
    return json_response(logs.logs(ctx, rev).to_json())


@router.get("/blame/{resource}", **operation(READ, schemas.Blame, summary="Blame (blame)"))
def blame(resource: ResourceName, ctx: Context = Ctx) -> Response:
    """For every input of ``resource``, its value and the commit that last set it."""
    return json_response(history_views.blame_json(history.blame(ctx, resource), secrets_of(ctx)))


@router.get("/checkpoints", **operation(READ, schemas.Checkpoints, summary="List checkpoints"))
def list_checkpoints(ctx: Context = Ctx) -> Response:
    """Checkpoints by revision: name, revision, time, principal, description."""
    return json_response(checkpoints_json(checkpoints(ctx)))


@router.get("/verify", **operation(READ, schemas.Verify, summary="Verify the log (verify)"))
def verify(ctx: Context = Ctx) -> Response:
    """Recompute the hash chain and replay the log against committed state."""
    return json_response(history.verify(ctx).to_json())
