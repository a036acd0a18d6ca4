"""The ``tokens`` repository of a store transaction: API tokens, kept as digests.

Contract: names are unique (a taken one is AlreadyExistsError); ``find`` looks
a token up by the digest of its secret through an index, never by a scan;
``revoke`` deletes the row, so a revoked token is unknown at once; the secret
itself never reaches the store.
"""

from __future__ import annotations

from typing import Protocol

from retrograde.model.tokens import Token


class TokenRepository(Protocol):
    """API tokens by name, found by digest."""

    def add(self, token: Token) -> None:
        """Store ``token``; a taken name is AlreadyExistsError."""
        ...

    def find(self, digest: str) -> Token | None:
        """The token whose secret has ``digest``, or None."""
        ...

    def list(self) -> list[Token]:
        """Every token, by name."""
        ...

    def revoke(self, name: str) -> Token:
        """Delete the token called ``name`` and return it; an unknown one is NotFoundError."""
        ...

    def touch(self, name: str, when: str) -> None:
        """Record that the token ``name`` was used at ``when`` (nothing if it is gone)."""
        ...
