"""Routes that change the staged log or name revisions (role ``operator``), and ``plan``.

``/api/stage`` takes the stack directory as an upload (multipart files, each
named by its relative path, or a JSON object ``{path: content}``), writes it
under the server's stacks root (:mod:`retrograde.server.uploads`) and stages
it as ``retrograde stage`` does. ``/api/plan`` answers the plan with its
``plan_digest``, which ``POST /api/apply`` needs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from retrograde.commands import confirming, rollback_views, staging, views
from retrograde.commands import rollback as undo
from retrograde.commands.context import Context
from retrograde.model.tokens import Role
from retrograde.planning.selection import parse_tag
from retrograde.server import schemas
from retrograde.server.errors import BadRequest
from retrograde.server.rendering import json_response
from retrograde.server.routing import Ctx, operation, secrets_of, server_state
from retrograde.server.uploads import checked_files, stack_file, write_upload

router = APIRouter(prefix="/api", tags=["stage"])
OPERATE = Role.OPERATOR

Names = Annotated[list[str], Query(max_length=10_000)]
Tags = Annotated[list[str], Query(max_length=1000, description="KEY=VALUE (repeatable)")]


def tag_pairs(values: list[str], param: str = "tag") -> list[tuple[str, str]]:
    try:
        return [parse_tag(value) for value in values]
    except ValueError as error:
        raise BadRequest(f"invalid {param}: {error}", param=param) from None


@router.get("/plan", **operation(OPERATE, schemas.DigestedPlan, summary="The plan (plan)"))
def plan(
    ctx: Context = Ctx,
    target: Names = [],  # noqa: B006 (FastAPI copies defaults)
    tag: Tags = [],  # noqa: B006
    exclude: Names = [],  # noqa: B006
) -> Response:
    """The ordered actions apply would run (or the selected part), and their ``plan_digest``."""
    made, digest = confirming.plan_with_digest(
        ctx, targets=target, tags=tag_pairs(tag), exclude=exclude
    )
    return json_response({**made.to_json(), "plan_digest": digest})


UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "The stack directory's files: {relative path: content}.",
                    "additionalProperties": {"type": "string"},
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Each file named by its path in the directory.",
                        }
                    },
                }
            },
        },
    }
}


@router.post(
    "/stage",
    **operation(OPERATE, schemas.Staged, summary="Stage a stack (stage)", openapi_extra=UPLOAD_DOC),
)
async def stage(
    request: Request,
    ctx: Context = Ctx,
    stack: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    target: Names = [],  # noqa: B006
    tag: Tags = [],  # noqa: B006
    exclude: Names = [],  # noqa: B006
) -> Response:
    """Stage an uploaded stack directory: the staged log becomes its difference from state."""
    import anyio.to_thread

    settings = server_state(request).settings
    files = checked_files(await _uploaded(request, settings.max_upload_files), settings)
    chosen = stack_file(files, stack)
    pairs = tag_pairs(tag)

    def run() -> dict[str, Any]:
        directory = write_upload(files, settings.stacks_root)
        here = dataclasses.replace(ctx, cwd=directory)  # errors name the file as uploaded
        staged = staging.stage_file(
            here, Path(*chosen.parts), targets=target, tags=pairs, exclude=exclude
        )
        secrets = secrets_of(ctx)
        return {
            **views.changes_json(staged.changes, secrets),
            "migrations": [views.commit_json(c, secrets) for c in staged.migrations],
            "warnings": [w.message for w in staged.warnings],
        }

    return json_response(await anyio.to_thread.run_sync(run))


async def _uploaded(request: Request, max_files: int) -> dict[str, bytes]:
    """The upload's files by path, from a multipart form or a JSON object."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return await _multipart(request, max_files)
    if kind not in ("application/json", ""):
        raise BadRequest(f"send the files as JSON or multipart/form-data, not {kind!r}")
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body is not JSON: send {path: content}", param="body") from None
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        raise BadRequest("the body must be a JSON object {path: content}", param="body")
    return {str(k): v.encode("utf-8", "surrogatepass") for k, v in body.items()}


async def _multipart(request: Request, max_files: int) -> dict[str, bytes]:
    try:
        form = await request.form(max_files=max_files, max_fields=100)
    except Exception as error:  # python-multipart and Starlette raise several kinds
        raise BadRequest(f"the multipart body cannot be read: {error}", param="body") from None
    files: dict[str, bytes] = {}
    for _, value in form.multi_items():
        if isinstance(value, UploadFile):
            name = value.filename or ""
            if name in files:
                raise BadRequest(f"file path {name!r} is given twice", param="files")
            files[name] = await value.read()
    return files


@router.post("/refresh", **operation(OPERATE, schemas.Refreshed, summary="Drift (refresh)"))
def refresh(body: schemas.RefreshRequest, ctx: Context = Ctx) -> Response:
    """Run the read actions of ``resources`` (all with a ``read`` when none is selected) and
    answer the drift; ``accept`` records it as observe commits, ``restore`` also stages the
    way back (``drift`` non-empty: the world differs from committed state)."""
    if body.accept and body.restore:
        raise BadRequest("accept and restore exclude each other", param="restore")
    from retrograde.commands.refresh import refresh as refresh_verb

    found = refresh_verb(
        ctx,
        body.resources,
        tags=tag_pairs(body.tags, "tags"),
        exclude=body.exclude,
        accept=body.accept,
        restore=body.restore,
        message=body.message,
    )
    return json_response(found.to_json(secrets_of(ctx)))


@router.post("/discard", **operation(OPERATE, schemas.Discarded, summary="Discard (discard)"))
def discard(body: schemas.DiscardRequest, ctx: Context = Ctx) -> Response:
    """Drop the staged changes of ``resources`` (all staged changes when none are named)."""
    return json_response({"discarded": staging.discard(ctx, body.resources)})


@router.post("/revert", **operation(OPERATE, schemas.Preview, summary="Revert (revert)"))
def revert(body: schemas.RevertRequest, ctx: Context = Ctx) -> Response:
    """Stage the undoing of commits ``revs`` or of apply ``apply_id`` (``preview``: stage
    nothing, show what would be staged)."""
    if bool(body.revs) == (body.apply_id is not None):
        raise BadRequest("give revs or apply_id (not both)", param="revs")
    for rev in body.revs:
        if not 1 <= rev <= schemas.MAX_REV:
            raise BadRequest(f"revision {rev} is not a valid revision number", param="revs")
    preview = undo.revert(
        ctx, body.revs, apply_id=body.apply_id, force=body.force, dry_run=body.preview
    )
    return json_response(rollback_views.preview_json(preview, secrets_of(ctx)))


@router.post("/rollback", **operation(OPERATE, schemas.Preview, summary="Roll back (rollback)"))
def rollback(body: schemas.RollbackRequest, ctx: Context = Ctx) -> Response:
    """Stage the way back to a checkpoint or revision, for all or some resources (``preview``:
    stage nothing)."""
    preview = undo.rollback(
        ctx,
        body.target,
        resources=body.resources,
        tags=tag_pairs(body.tags, "tags"),
        dry_run=body.preview,
    )
    return json_response(rollback_views.preview_json(preview, secrets_of(ctx)))


@router.post(
    "/checkpoints",
    **operation(OPERATE, schemas.Checkpoint, status=201, summary="Name a revision (checkpoint)"),
)
def checkpoint(body: schemas.CheckpointRequest, ctx: Context = Ctx) -> Response:
    """Name revision ``at`` (default: the newest); names are unique and immutable."""
    made = undo.checkpoint(ctx, body.name, at=body.at, message=body.message)
    return json_response(made.to_json(), status=201)
