"""Routes that run plans in the background (role ``operator``), and their live progress.

``POST /api/apply`` takes the store lock and answers 202 with the apply id as
soon as the run has begun, or 409 when the store is locked, an apply waits for
``resume``, or the staged plan's digest is not the one given. ``POST
/api/resume`` likewise. ``GET /api/applies/{id}/events`` streams the run as
server-sent events (see :mod:`retrograde.server.jobs`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response, StreamingResponse

from retrograde.commands import applying, confirming, history
from retrograde.commands import resume as resuming
from retrograde.commands.context import Context
from retrograde.engine.cancel import CancelToken
from retrograde.engine.runner import Progress
from retrograde.model.tokens import Role
from retrograde.server import schemas
from retrograde.server.jobs import Event, Job
from retrograde.server.rendering import json_response
from retrograde.server.routing import Ctx, operation, secrets_of, server_state

router = APIRouter(prefix="/api", tags=["apply"])
OPERATE = Role.OPERATOR
POLL_SECONDS = 0.05
KEEPALIVE_SECONDS = 15.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _accepted(request: Request, job: Job) -> Response:
    assert job.apply_id is not None
    events = str(request.url_for("apply_events", apply_id=str(job.apply_id)).path)
    body = {"apply_id": job.apply_id, "status": "running", "events": events}
    return json_response(body, status=202, headers={"Location": events})


@router.post("/apply", **operation(OPERATE, schemas.Accepted, status=202, summary="Apply (apply)"))
def apply(request: Request, body: schemas.ApplyRequest, ctx: Context = Ctx) -> Response:
    """Apply the staged log if its plan is still the one whose ``plan_digest`` is given.

    Answers 202 with the apply id once the run has begun; follow ``events``.
    The token's name is the principal of the apply and its commits.
    """

    def work(progress: Progress, cancel: CancelToken) -> tuple[int | None, dict[str, Any]]:
        report = applying.apply(
            ctx,
            jobs=body.jobs,
            message=body.message,
            progress=progress,
            confirm=confirming.confirmed_by_digest(body.plan_digest),
            cancel=cancel,
        )
        return report.apply_id, dict(report.to_json())

    return _accepted(request, server_state(request).jobs.start("apply", ctx, work))


@router.post(
    "/resume", **operation(OPERATE, schemas.Accepted, status=202, summary="Resume (resume)")
)
def resume(request: Request, body: schemas.ResumeRequest, ctx: Context = Ctx) -> Response:
    """Continue the interrupted apply under its own id; answers 202 once it runs again."""

    def work(progress: Progress, cancel: CancelToken) -> tuple[int | None, dict[str, Any]]:
        report = resuming.resume(ctx, jobs=body.jobs, progress=progress, cancel=cancel)
        return report.report.apply_id, dict(report.to_json(secrets_of(ctx)))

    return _accepted(request, server_state(request).jobs.start("resume", ctx, work))


EVENT_NAMES = (
    "begin",
    "action_started",
    "action_finished",
    "action_failed",
    "report",
    "error",
    "status",
)

EVENTS_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: begin, action_started, action_finished, "
        "action_failed, then report (the apply --json shape) or error; an apply this server "
        "did not run gives one status event (the apply record).",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "id": {"type": "string"},
                        "event": {"enum": list(EVENT_NAMES)},
                        "data": {"type": "string", "description": "JSON"},
                    },
                }
            }
        },
    }
}


@router.get(
    "/applies/{apply_id}/events",
    name="apply_events",
    **operation(
        Role.READER,
        None,
        summary="Live progress of an apply",
        responses=EVENTS_DOC,
        response_class=StreamingResponse,
    ),
)
def events(
    request: Request,
    apply_id: Annotated[int, Path(ge=1, le=schemas.MAX_REV)],
    ctx: Context = Ctx,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """The apply's events from the start (or after ``Last-Event-ID``) to its end."""
    record = history.apply_record(ctx, apply_id)
    job = server_state(request).jobs.get(apply_id)
    last = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    status = Event(1, "status", dict(record.to_json()))
    stream = _one(status) if job is None else _follow(job, last)
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


async def _one(event: Event) -> AsyncIterator[bytes]:
    yield _frame(event)


async def _follow(job: Job, last: int) -> AsyncIterator[bytes]:
    """Every event after ``last`` as it comes, until the job has ended and all were sent."""
    quiet = 0.0
    while True:
        found, finished = job.since(last)
        for event in found:
            yield _frame(event)
            last = event.id
        if finished and not found:
            return
        if found:
            quiet = 0.0
            continue
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield b": keep-alive\n\n"


def _frame(event: Event) -> bytes:
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.name}\ndata: {data}\n\n".encode()
