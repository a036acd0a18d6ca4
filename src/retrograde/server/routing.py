"""What every API route shares: its role, its documented answers, and the verb's context.

:func:`operation` gives a route's decorator arguments: the role it needs (as a
dependency, and as ``x-role`` in the OpenAPI document), its response model and
the error answers, all in the error shape. :func:`context` is the verb's
:class:`~retrograde.commands.context.Context`: the server's store, acting as
the token's name (whatever the request says), in the stacks root.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from pydantic import BaseModel

from retrograde.commands.context import Context
from retrograde.commands.views import Secrets
from retrograde.model.tokens import Role
from retrograde.server.auth import principal_of, require
from retrograde.server.errors import ERROR_RESPONSES
from retrograde.server.schemas import ErrorBody
from retrograde.server.state import ServerState


def operation(
    role: Role,
    model: type[BaseModel] | None,
    *,
    status: int = 200,
    summary: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``router.get``/``post``/... of a route needing ``role``."""
    responses: dict[int | str, dict[str, Any]] = {
        code: {**answer, "model": ErrorBody} for code, answer in ERROR_RESPONSES.items()
    }
    responses.update(extra.pop("responses", {}))
    return {
        "response_model": model,
        "status_code": status,
        "responses": responses,
        "dependencies": [Depends(require(role))],
        "openapi_extra": {"x-role": role.value, **extra.pop("openapi_extra", {})},
        "summary": summary,
        **extra,
    }


def server_state(request: Request) -> ServerState:
    state = request.app.state.retrograde
    assert isinstance(state, ServerState)
    return state


async def context(request: Request) -> Context:
    """The verb's context: the server's store, acting as the token's name (async: it does no
    I/O, so it costs no trip through the thread pool)."""
    principal = principal_of(request)
    return server_state(request).context_for(principal.name)


def secrets_of(ctx: Context) -> Secrets:
    with ctx.store.read() as tx:
        return Secrets(tx.state.types())


Ctx = Depends(context)
