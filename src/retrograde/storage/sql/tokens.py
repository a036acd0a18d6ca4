"""API tokens in SQL: one row per token, its secret's digest unique and indexed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import RowMapping, bindparam, delete, select, update

from retrograde.errors import AlreadyExistsError, NotFoundError
from retrograde.model.tokens import Role, Token
from retrograde.storage.sql.schema import tokens

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

_BY_DIGEST = select(tokens).where(tokens.c.digest == bindparam("digest"))
"""Built once: every API request looks its token up."""


class SqlTokens:
    """:class:`retrograde.storage.token_repository.TokenRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def add(self, token: Token) -> None:
        conn = self._c.writing()
        taken = conn.execute(select(tokens.c.name).where(tokens.c.name == token.name)).first()
        if taken is not None:
            raise AlreadyExistsError("token", token.name)
        conn.execute(
            tokens.insert().values(
                name=token.name,
                role=token.role.value,
                digest=token.digest,
                created=token.created,
                expires=token.expires,
                last_used=token.last_used,
            )
        )

    def find(self, digest: str) -> Token | None:
        found = self._c.conn.execute(_BY_DIGEST, {"digest": digest}).mappings().first()
        return None if found is None else _from_row(found)

    def list(self) -> list[Token]:
        rows = self._c.conn.execute(select(tokens).order_by(tokens.c.name)).mappings()
        return [_from_row(row) for row in rows]

    def revoke(self, name: str) -> Token:
        conn = self._c.writing()
        row = conn.execute(select(tokens).where(tokens.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError("token", name)
        conn.execute(delete(tokens).where(tokens.c.name == name))
        return _from_row(row)

    def touch(self, name: str, when: str) -> None:
        statement = update(tokens).where(tokens.c.name == name).values(last_used=when)
        self._c.writing().execute(statement)


def _from_row(row: RowMapping) -> Token:
    return Token(
        name=row["name"],
        role=Role(row["role"]),
        digest=row["digest"],
        created=row["created"],
        expires=row["expires"],
        last_used=row["last_used"],
    )
