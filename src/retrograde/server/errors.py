"""How an error looks over HTTP: the ``--json`` error shape, with a status code.

Every answer that is not a success is ``{"error": {"kind", "message",
...fields}}`` (docs/json.md): ``kind`` is the error class in snake case, the
other fields its structured fields, as the command line prints them. Status
codes: 400 bad input, 401 no or a refused credential, 403 a role or CSRF
refusal, 404 an unknown thing, 409 a conflict or a locked store, 503 a store
that cannot be used. Secret values never reach an error: the commands mask
them before they raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from retrograde import errors
from retrograde.commands.error_views import domain_fields
from retrograde.server.rendering import json_response

STATUS: tuple[tuple[type[errors.RetrogradeError], int], ...] = (
    (errors.TokenRefusedError, 401),
    (errors.NotFoundError, 404),
    (errors.StoreBusyError, 409),
    (errors.ReadOnlyStoreError, 409),
    (errors.StoreError, 503),
    (errors.ExecutorError, 503),
    (errors.AlreadyExistsError, 409),
    (errors.ConflictError, 409),
    (errors.StateError, 409),
)
"""The first class an error is an instance of decides its status; any other error is 400."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "model": None}
    for code, text in (
        (400, "Bad input: names what and where."),
        (401, "No credential, or a token unknown, revoked or expired."),
        (403, "The token's role may not do this, or a cookie write lacks its CSRF header."),
        (404, "Unknown resource, revision, apply, checkpoint or token."),
        (409, "Conflict: the store is locked, an apply was interrupted, or the staged log moved."),
    )
}
"""Filled in with the error model by :mod:`retrograde.server.routing`."""


class BadRequest(Exception):
    """Input the route refuses itself (400, kind ``usage_error``): names what and where."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = errors.one_line(message)
        self.param = param

    def body(self) -> dict[str, Any]:
        fields = {"param": self.param} if self.param else {}
        return error_body("usage_error", self.message, **fields)


def status_of(exc: errors.RetrogradeError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def error_body(kind: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message, **fields}}


def error_response(status: int, body: Mapping[str, Any], **headers: str) -> Response:
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="retrograde"')
    return json_response(body, status=status, headers=headers)


def install(app: FastAPI) -> None:
    """Answer domain errors, bad input and HTTP errors in the error shape."""

    async def domain(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.RetrogradeError)
        if isinstance(exc, errors.TokenRefusedError):  # as the authenticator answers it
            return error_response(401, error_body("unauthorized", exc.message))
        return error_response(status_of(exc), {"error": domain_fields(exc)})

    async def invalid(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, validation_body(exc))

    async def http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = error_body(kind, str(exc.detail))
        return error_response(exc.status_code, body, **dict(exc.headers or {}))

    async def bad(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return error_response(400, exc.body())

    app.add_exception_handler(BadRequest, bad)
    app.add_exception_handler(errors.RetrogradeError, domain)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http)


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """The first problem, as one line naming the parameter and where it was given."""
    problems = list(exc.errors())
    if not problems:
        return error_body("usage_error", "bad request")
    first = problems[0]
    where = [str(part) for part in first.get("loc", ())]
    param = ".".join(where[1:]) or (where[0] if where else "request")
    place = where[0] if where else "request"
    message = f"invalid {param} in {place}: {first.get('msg', 'bad value')}"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return error_body("usage_error", errors.one_line(message + more)[:1000], param=param)
