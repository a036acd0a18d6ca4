"""The token verbs: create, list and revoke API tokens, and check one a request presents.

They work on the store directly (no server needed), which is how the first
admin token is made. ``create`` returns the secret once; only its digest is
stored (:mod:`retrograde.model.tokens`).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.errors import TokenRefusedError
from retrograde.model.tokens import Role, Token, check_token_name, new_secret, token_digest
from retrograde.storage.base import Transaction

T = TypeVar("T")

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"(?:\d{1,6}[smhdw])+")
_PART = re.compile(r"(\d+)([smhdw])")


def create_token(
    ctx: Context, name: str, role: Role, *, expires: str | None = None
) -> tuple[Token, str]:
    """Store a new token ``name`` with ``role``; return it and its secret (shown only now).

    ``expires`` is a duration from now (``30d``, ``12h``, ``1w2d``); a taken
    name is :class:`AlreadyExistsError`, a bad name :class:`InvalidNameError`.
    """
    check_token_name(name)
    now = datetime.now(UTC)
    until = None if expires is None else _stamp(now + parse_duration(expires))
    secret = new_secret()
    token = Token(name, role, token_digest(secret), _stamp(now), until)
    with ctx.store.write() as tx:
        tx.tokens.add(token)
    return token, secret


def list_tokens(ctx: Context) -> list[Token]:
    """Every token, by name: its role and times, never its secret."""
    with ctx.store.read() as tx:
        return tx.tokens.list()


def revoke_token(ctx: Context, name: str) -> Token:
    """Delete token ``name`` (refused from the next request on); NotFoundError if unknown."""
    with ctx.store.write() as tx:
        return tx.tokens.revoke(name)


def authenticate(ctx: Context, secret: str, *, touch: bool = True) -> Token:
    """The live token whose secret is ``secret`` (its use recorded when ``touch``).

    An unknown, revoked or expired token is :class:`TokenRefusedError`.
    """
    token, _ = authenticate_reading(ctx, secret, read_nothing)
    if touch:
        with ctx.store.write() as tx:
            tx.tokens.touch(token.name, utc_now())
    return token


def authenticate_reading(
    ctx: Context, secret: str, read: Callable[[Transaction], T]
) -> tuple[Token, T]:
    """:func:`authenticate` (without recording the use) and ``read`` in the same read
    transaction, only once the token is found: one transaction for a server's request that
    checks its token and reads what its answer depends on."""
    with ctx.store.read() as tx:
        token = tx.tokens.find(token_digest(secret))
        if token is None or not token.matches(secret):
            raise TokenRefusedError("unknown or revoked token")
        seen = read(tx)
    return _unexpired(token), seen


def token_for_digest(ctx: Context, digest: str) -> Token:
    """The live token with ``digest`` (a page session's); :class:`TokenRefusedError` else."""
    return token_for_digest_reading(ctx, digest, read_nothing)[0]


def token_for_digest_reading(
    ctx: Context, digest: str, read: Callable[[Transaction], T]
) -> tuple[Token, T]:
    """:func:`token_for_digest` and ``read`` in one read transaction (see
    :func:`authenticate_reading`)."""
    with ctx.store.read() as tx:
        token = tx.tokens.find(digest)
        if token is None or not hmac.compare_digest(token.digest, digest):
            raise TokenRefusedError("the session's token was revoked: sign in again")
        seen = read(tx)
    return _unexpired(token), seen


def _unexpired(token: Token) -> Token:
    if token.expired(utc_now()):
        raise TokenRefusedError(f"token {token.name!r} expired at {token.expires}")
    return token


def read_nothing(_tx: Transaction) -> None:
    """The ``read`` of a token check that needs nothing else."""
    return None


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``1w2d``... as a timedelta; ``ValueError`` naming ``text`` else."""
    cleaned = text.strip()
    if not _DURATION.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 1w2d")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta():
        raise ValueError(f"{text!r} is not a duration longer than zero")
    return total


def _stamp(moment: datetime) -> str:
    return moment.strftime(STAMP_FORMAT)
