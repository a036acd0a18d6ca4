"""The app factory: ``create_app(store, settings)`` gives the ASGI app ``retrograde serve`` runs.

The API lives under ``/api`` (its OpenAPI document at ``/api/openapi.json``,
every operation with its ``x-role``); the page's routes (:mod:`retrograde.server.page`)
stay out of the document. No API docs page is served (it would load scripts
from elsewhere). On shutdown every running apply is cancelled and waited for
(:mod:`retrograde.server.jobs`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import Response

from retrograde.server import errors, page
from retrograde.server.auth import Authenticator, Forbidden
from retrograde.server.caching import version_in
from retrograde.server.limits import BodyLimit
from retrograde.server.routes import admin, reads, running, session, staging
from retrograde.server.settings import ServerSettings
from retrograde.server.state import ServerState
from retrograde.storage.base import Store

API_TITLE = "retrograde"


def create_app(store: Store, settings: ServerSettings) -> FastAPI:
    """The app over ``store``; the caller keeps the store open for the app's life and closes it."""
    state = ServerState(store, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.cancel_all()
        await anyio.to_thread.run_sync(state.jobs.join, settings.shutdown_grace_seconds)

    app = FastAPI(
        title=API_TITLE,
        version=_version(),
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        description="The verbs of the retrograde command line over HTTP (docs/server.md).",
    )
    app.state.retrograde = state
    errors.install(app)
    app.add_exception_handler(Forbidden, _forbidden)
    for router in (session.router, reads.router, staging.router, running.router, admin.router):
        app.include_router(router)
    app.include_router(page.router)
    app.add_middleware(BodyLimit, limit=2 * settings.max_upload_bytes + 65536)
    app.add_middleware(
        Authenticator,
        context=lambda: state.context_for("server"),
        sessions=state.sessions,
        with_get=version_in,
    )
    return app


async def _forbidden(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    body = errors.error_body("forbidden", str(exc), role=exc.role, needed=exc.needed)
    return errors.error_response(403, body)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("retrograde")
    except PackageNotFoundError:
        return "0"
