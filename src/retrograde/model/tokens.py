"""API tokens: who may use the server, and as what role (docs/server.md, "Tokens and roles").

A token is a random secret handed out once (``token create``); the store keeps
only its SHA-256 digest, so a copy of the database lets nobody in. A token's
name is the principal of everything done with it. Roles are ordered: every
role may do what the roles below it may.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TypedDict

from retrograde.errors import InvalidNameError

TOKEN_PREFIX = "rg_"
"""Every token starts so, which makes one easy to recognise (and to scan for) in a leak."""

NAME_RULE = (
    "use letters, digits and _ . - @ + (starting with a letter, digit or _), at most 100 characters"
)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,99}")


class Role(enum.Enum):
    """What a token may do: ``reader`` reads, ``operator`` also changes, ``admin`` everything."""

    READER = "reader"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.READER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class TokenJSON(TypedDict):
    """One token in ``token list --json`` (never the secret, never its digest)."""

    name: str
    role: str
    created: str
    expires: str | None
    last_used: str | None


@dataclass(frozen=True, slots=True)
class Token:
    """A stored token: its name, role, the digest of its secret, and when."""

    name: str
    role: Role
    digest: str
    created: str
    expires: str | None = None
    last_used: str | None = None

    def to_json(self) -> TokenJSON:
        return {
            "name": self.name,
            "role": self.role.value,
            "created": self.created,
            "expires": self.expires,
            "last_used": self.last_used,
        }

    def expired(self, now: str) -> bool:
        """Whether the token has expired at ``now`` (timestamps compare as text: same format)."""
        return self.expires is not None and self.expires <= now

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` is this token's, compared in constant time."""
        return hmac.compare_digest(self.digest, token_digest(secret))


def new_secret() -> str:
    """A fresh token: the prefix and 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(secret: str) -> str:
    """The stored form of a token: SHA-256 hex (a token is random, so no salt or slow hash)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_token_name(name: str) -> str:
    """``name`` if it is a valid token name (it becomes a principal), else InvalidNameError."""
    if not _NAME.fullmatch(name):
        raise InvalidNameError("token", name, NAME_RULE)
    return name
