"""The page's session: sign in with a token (as a bearer credential), get a cookie; sign out.

The cookie is HttpOnly and SameSite=Strict (Secure when the request came over
HTTPS, directly or through a proxy that says so), scoped to the app's root
path. Its value is a random session id, never the token. The answer carries
the CSRF value the page sends back in ``X-Retrograde-CSRF`` with every write.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from retrograde.errors import TokenRefusedError
from retrograde.model.tokens import Role
from retrograde.server import schemas
from retrograde.server.auth import COOKIE, principal_of
from retrograde.server.rendering import json_response
from retrograde.server.routing import operation, server_state

router = APIRouter(prefix="/api", tags=["session"])


def _cookie_path(request: Request) -> str:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{root}/"


@router.post("/session", **operation(Role.READER, schemas.SessionInfo, summary="Sign in"))
def sign_in(request: Request) -> Response:
    """Open a page session for the bearer token: sets the session cookie."""
    principal = principal_of(request)
    if principal.via_cookie:
        raise TokenRefusedError("sign in with the token: 'Authorization: Bearer TOKEN'")
    state = server_state(request)
    sid, session = state.sessions.open(principal.token)
    body = {
        "name": principal.name,
        "role": principal.token.role.value,
        "csrf": session.csrf,
        "expires": session.expires,
    }
    response = json_response(body)
    response.set_cookie(
        COOKIE,
        sid,
        max_age=state.settings.session_seconds,
        path=_cookie_path(request),
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/session", **operation(Role.READER, schemas.SessionInfo, summary="This session"))
def session_info(request: Request) -> Response:
    """Who this session is, and its CSRF value (for a page that was reloaded)."""
    principal = principal_of(request)
    found = server_state(request).sessions.get(request.cookies.get(COOKIE, ""))
    if not principal.via_cookie or found is None:
        raise TokenRefusedError("no page session: sign in with POST /api/session")
    body = {
        "name": principal.name,
        "role": principal.token.role.value,
        "csrf": found.csrf,
        "expires": found.expires,
    }
    return json_response(body)


@router.delete("/session", **operation(Role.READER, schemas.SignedOut, summary="Sign out"))
def sign_out(request: Request) -> Response:
    """End the page session and clear its cookie."""
    server_state(request).sessions.close(request.cookies.get(COOKIE, ""))
    response = json_response({"signed_out": True})
    response.delete_cookie(COOKIE, path=_cookie_path(request), httponly=True, samesite="strict")
    return response
