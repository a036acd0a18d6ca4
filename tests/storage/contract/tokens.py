"""The contract of ``tx.tokens``: API tokens by name, found by the digest of their secret."""

from __future__ import annotations

import pytest

from retrograde.errors import AlreadyExistsError, NotFoundError, StateError
from retrograde.model.tokens import Role, Token, token_digest
from retrograde.storage.base import Store
from tests.storage.contract.fixtures import StoreFixtures


def token(name: str, role: Role = Role.READER, expires: str | None = None) -> Token:
    return Token(
        name, role, token_digest(f"secret-of-{name}"), "2026-12-01T00:00:00.000000Z", expires
    )


class TokenContract(StoreFixtures):
    """Tokens are added once by name, found by digest, listed by name, touched and revoked."""

    def test_tokens_round_trip_found_by_digest_and_listed_by_name(self, store: Store) -> None:
        """Every field comes back; find answers by digest; the list is ordered by name."""
        made = [token("zed", Role.ADMIN, "2027-01-01T00:00:00.000000Z"), token("amy")]
        with store.write() as tx:
            for one in made:
                tx.tokens.add(one)
        with store.read() as tx:
            assert tx.tokens.find(token_digest("secret-of-zed")) == made[0]
            assert tx.tokens.find(token_digest("no such secret")) is None
            assert [t.name for t in tx.tokens.list()] == ["amy", "zed"]

    def test_a_taken_name_is_already_exists_and_the_first_stays(self, store: Store) -> None:
        """A second token of the same name is refused; the first one's digest still finds it."""
        with store.write() as tx:
            tx.tokens.add(token("ci"))
        with pytest.raises(AlreadyExistsError), store.write() as tx:
            tx.tokens.add(Token("ci", Role.ADMIN, token_digest("other"), "2026-12-02"))
        with store.read() as tx:
            assert [t.role for t in tx.tokens.list()] == [Role.READER]
            assert tx.tokens.find(token_digest("other")) is None

    def test_revoke_deletes_and_an_unknown_name_is_not_found(self, store: Store) -> None:
        """A revoked token is found no more; revoking it again is NotFoundError."""
        with store.write() as tx:
            tx.tokens.add(token("ci"))
        with store.write() as tx:
            assert tx.tokens.revoke("ci").name == "ci"
        with store.read() as tx:
            assert tx.tokens.find(token_digest("secret-of-ci")) is None
        with pytest.raises(NotFoundError), store.write() as tx:
            tx.tokens.revoke("ci")

    def test_touch_records_last_use_and_reads_cannot_write(self, store: Store) -> None:
        """touch sets last_used; add and touch in a read transaction are StateError."""
        with store.write() as tx:
            tx.tokens.add(token("ci"))
            tx.tokens.touch("ci", "2026-12-03T10:00:00.000000Z")
        with store.read() as tx:
            assert tx.tokens.list()[0].last_used == "2026-12-03T10:00:00.000000Z"
            with pytest.raises(StateError):
                tx.tokens.touch("ci", "2026-12-04")
            with pytest.raises(StateError):
                tx.tokens.add(token("other"))

    def test_the_store_never_holds_the_secret(self, store: Store) -> None:
        """No column of the tokens table holds the secret itself, only its digest."""
        with store.write() as tx:
            tx.tokens.add(token("ci"))
        from sqlalchemy import text

        from retrograde.storage.sql.transaction import sql_connection

        with store.read() as tx:
            rows = sql_connection(tx).execute(text("SELECT * FROM tokens")).all()
        assert rows and all("secret-of-ci" not in str(value) for row in rows for value in row)
