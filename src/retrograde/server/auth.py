"""Who is asking: a bearer token or the page's session cookie, checked before anything else.

:class:`Authenticator` is ASGI middleware over every ``/api`` path. A request
without a credential, or with a token that is unknown, revoked or expired, is
answered 401 before routing, so no validation, 404 or 409 answer can tell an
anonymous client anything. A cookie-authenticated write must also carry the
CSRF value given at sign-in in ``X-Retrograde-CSRF`` (403 otherwise); bearer
requests need none (a browser never sends them on its own). Roles are checked
per route (:func:`require`), after authentication.

A GET's token is checked in a read transaction that also reads what the
app asks for (``with_get``: the version its cached answers depend on), so
that a cached answer needs no second transaction.

Sessions live in this process: a random id in an HttpOnly, SameSite=Strict
cookie maps to the token's digest, so revoking the token ends its sessions at
once, and no response ever carries the token itself.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio.to_thread
from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.tokens import (
    authenticate_reading,
    read_nothing,
    token_for_digest_reading,
)
from retrograde.errors import StoreError, TokenRefusedError
from retrograde.model.tokens import Role, Token
from retrograde.server.errors import error_body, error_response
from retrograde.server.settings import TOUCH_SECONDS
from retrograde.storage.base import Transaction

COOKIE = "retrograde_session"
CSRF_HEADER = "x-retrograde-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_CREDENTIAL = 1000
"""Longer bearer or cookie values are refused unread."""
SEEN_WITH_TOKEN = "seen_with_token"
"""Where a GET's request state keeps what was read with its token (``with_get``)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated request: its token and whether the session cookie proved it."""

    token: Token
    via_cookie: bool = False

    @property
    def name(self) -> str:
        return self.token.name


@dataclass(frozen=True, slots=True)
class Session:
    digest: str
    csrf: str
    expires_at: float
    expires: str


class Sessions:
    """Page sessions by id, in memory; thread-safe."""

    def __init__(self, seconds: int) -> None:
        self._seconds = seconds
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: Token) -> tuple[str, Session]:
        until = time.time() + self._seconds
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
        if token.expires is not None and token.expires < expires:
            expires = token.expires
        session = Session(token.digest, secrets.token_urlsafe(24), until, expires)
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str) -> Session | None:
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires_at <= time.time():
                del self._by_id[sid]
                return None
            return session

    def close(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)

    def _prune(self) -> None:
        now = time.time()
        for sid in [s for s, v in self._by_id.items() if v.expires_at <= now]:
            del self._by_id[sid]


class Toucher:
    """Records a token's use at most every :data:`TOUCH_SECONDS`, so a read costs no write."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(name, -TOUCH_SECONDS) < TOUCH_SECONDS:
                return False
            self._last[name] = now
            return True


class Authenticator:
    """ASGI middleware: every ``/api`` request is authenticated (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        context: Callable[[], Context],
        sessions: Sessions,
        with_get: Callable[[Transaction], object] = read_nothing,
    ) -> None:
        self.app = app
        self.context = context
        self.sessions = sessions
        self.with_get = with_get
        self.toucher = Toucher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _api_path(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            principal, seen = await anyio.to_thread.run_sync(self._principal, request)
        except TokenRefusedError as refused:
            body = error_body("unauthorized", refused.message)
            await error_response(401, body)(scope, receive, send)
            return
        writes = principal.via_cookie and request.method not in SAFE_METHODS
        if writes and not self._csrf_ok(request):
            body = error_body("csrf_error", f"a cookie write needs the {CSRF_HEADER} header")
            await error_response(403, body)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        if seen is not None:
            state[SEEN_WITH_TOKEN] = seen
        await self.app(scope, receive, send)

    def _principal(self, request: Request) -> tuple[Principal, object]:
        """The principal, and for a GET what ``with_get`` read in the token's transaction."""
        read = self.with_get if request.method == "GET" else read_nothing
        bearer = bearer_token(request)
        if bearer is not None:
            token, seen = authenticate_reading(self.context(), bearer, read)
            self._touch(token)
            return Principal(token), seen
        sid = request.cookies.get(COOKIE)
        if not sid or len(sid) > MAX_CREDENTIAL:
            raise TokenRefusedError("sign in: send 'Authorization: Bearer TOKEN' or a session")
        session = self.sessions.get(sid)
        if session is None:
            raise TokenRefusedError("the session is unknown or has ended: sign in again")
        token, seen = token_for_digest_reading(self.context(), session.digest, read)
        self._touch(token)
        return Principal(token, via_cookie=True), seen

    def _touch(self, token: Token) -> None:
        """Record the use, if due; best effort: a read-only or busy store still serves reads."""
        if self.toucher.due(token.name):
            with contextlib.suppress(StoreError), self.context().store.write() as tx:
                tx.tokens.touch(token.name, utc_now())

    def _csrf_ok(self, request: Request) -> bool:
        sid = request.cookies.get(COOKIE, "")
        session = self.sessions.get(sid)
        given = request.headers.get(CSRF_HEADER, "")
        return session is not None and hmac.compare_digest(session.csrf.encode(), given.encode())


def seen_with_token(request: Request) -> object:
    """What the request's token check read for it (see :class:`Authenticator`), or None."""
    return request.scope.get("state", {}).get(SEEN_WITH_TOKEN)


def bearer_token(request: Request) -> str | None:
    """The bearer token of ``Authorization``, or None when there is none; a malformed or
    oversized header is refused."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_CREDENTIAL:
        raise TokenRefusedError("the Authorization header must be 'Bearer TOKEN'")
    return value


def _api_path(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == "/api" or path.startswith("/api/")


def principal_of(request: Request) -> Principal:
    """The request's principal (set by :class:`Authenticator`)."""
    found = getattr(request.state, "principal", None)
    if not isinstance(found, Principal):
        raise TokenRefusedError("sign in: send 'Authorization: Bearer TOKEN' or a session")
    return found


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency refusing (403) a principal whose role is below ``role`` (async: no I/O)."""

    async def check(request: Request) -> Principal:
        principal = principal_of(request)
        if not principal.token.role.allows(role):
            raise Forbidden(principal.token, role)
        return principal

    return check


class Forbidden(Exception):
    """The token's role is below what the route needs."""

    def __init__(self, token: Token, needed: Role) -> None:
        super().__init__(
            f"token {token.name!r} is {token.role.value}; this needs {needed.value} or above"
        )
        self.role = token.role.value
        self.needed = needed.value
