"""Admin routes: tokens (list, create, revoke) and freeing the store lock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from retrograde.commands import locking, tokens
from retrograde.commands.context import Context
from retrograde.model.tokens import Role
from retrograde.server import schemas
from retrograde.server.errors import BadRequest
from retrograde.server.rendering import json_response
from retrograde.server.routing import Ctx, operation

router = APIRouter(prefix="/api", tags=["admin"])
ADMIN = Role.ADMIN


@router.get("/tokens", **operation(ADMIN, schemas.Tokens, summary="List tokens (token list)"))
def list_tokens(ctx: Context = Ctx) -> Response:
    """Every token: name, role, created, expires, last used (never the token)."""
    return json_response({"tokens": [t.to_json() for t in tokens.list_tokens(ctx)]})


@router.post(
    "/tokens",
    **operation(ADMIN, schemas.TokenCreated, status=201, summary="Create a token (token create)"),
)
def create_token(body: schemas.TokenRequest, ctx: Context = Ctx) -> Response:
    """A new token: the answer is the only time its secret is shown."""
    if body.expires is not None:
        try:
            tokens.parse_duration(body.expires)
        except ValueError as error:
            raise BadRequest(f"invalid expires: {error}", param="expires") from None
    made, secret = tokens.create_token(ctx, body.name, Role(body.role), expires=body.expires)
    return json_response({"name": made.name, "role": made.role.value, "token": secret}, status=201)


@router.delete(
    "/tokens/{name}", **operation(ADMIN, schemas.Revoked, summary="Revoke a token (token revoke)")
)
def revoke_token(
    name: Annotated[str, Path(min_length=1, max_length=300)], ctx: Context = Ctx
) -> Response:
    """Revoke token ``name``: every request with it is refused from now on."""
    return json_response({"revoked": tokens.revoke_token(ctx, name).to_json()})


@router.post("/unlock", **operation(ADMIN, schemas.Released, summary="Free the lock (unlock)"))
def unlock(body: schemas.UnlockRequest, ctx: Context = Ctx) -> Response:
    """Free the store lock of a process that is gone (``force``: of any holder)."""
    held = locking.unlock(ctx, force=body.force)
    return json_response({"released": held.to_json() if held else None})
