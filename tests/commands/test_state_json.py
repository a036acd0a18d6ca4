"""``state --json`` built from the stored rows undecoded: the same view as the decoded state.

The answer of ``GET /api/state`` and ``state --json`` comes from
:func:`reading.state_json`, which copies each row's stored JSON texts into the
answer and decodes only the inputs of types with secret inputs. These tests
compare it, value for value, with the view of the decoded state
(:func:`views.state_json` over :func:`reading.state`), on rows that make a
byte-copying renderer go wrong: secrets (plain and sealed), integers beyond 64
bits, names that sort differently by code point than by collation, and
characters JSON escapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import retrograde
from retrograde.commands import reading, views
from retrograde.errors import NotFoundError
from retrograde.model.jsonvalue import parse
from retrograde.model.sealed import sealed
from retrograde.model.secrets import MASK
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, InputSpec, ResourceType
from retrograde.storage.base import Store

SEALED = sealed("bm9uY2UtYW5kLWNpcGhlcnRleHQ=")
"""A sealed value as stored (no key is needed to mask it, so none exists here)."""

STATES = {
    "web-b": ResourceState(
        "web", 1, {"port": 2**70, "note": 'tab\t"quote" \\ é \u2028'}, {}, {"rack": "r1"}
    ),
    "web-a": ResourceState("web", 1, {"port": -(2**64), "note": None}, {}, {}),
    "Vault": ResourceState("vault", 2, {"password": SEALED, "host": "db1", "pin": None}, {}, {}),
    "vault-plain": ResourceState("vault", 1, {"password": "hunter2", "host": "db2"}, {}, {}),
    "édge": ResourceState(
        "web", 1, {"port": 80, "upstream": "db1"}, {"upstream": "Vault.host"}, {"tier": "t0"}
    ),
}


def vault(version: int) -> ResourceType:
    inputs = {
        "password": InputSpec("password", secret=True),
        "host": InputSpec("host"),
        "pin": InputSpec("pin", secret=version == 2),
    }
    actions = {name: ActionSpec("shell", "true") for name in ("run", "update", "remove")}
    return ResourceType("vault", version, inputs, actions)


@pytest.fixture
def ctx(store: Store, tmp_path: Path) -> retrograde.Context:
    with store.write() as tx:
        tx.state.save_types([vault(1), vault(2)])
        tx.state.put(STATES)
    return retrograde.Context(store=store, principal="test", cwd=tmp_path)


def secrets_of(ctx: retrograde.Context) -> views.Secrets:
    with ctx.store.read() as tx:
        return views.Secrets(tx.state.types())


def test_the_answer_is_the_view_of_the_decoded_state(ctx: retrograde.Context) -> None:
    """Same values (integers beyond 64 bits exact), same order of resources and of keys."""
    secrets = secrets_of(ctx)
    answer = reading.state_json(ctx, secrets)
    snapshot = reading.state(ctx)
    expected = views.state_json(snapshot.rev, snapshot.resources, secrets)
    got = parse(answer)
    assert got == expected
    assert list(got["resources"]) == ["Vault", "vault-plain", "web-a", "web-b", "édge"]
    assert [list(r["inputs"]) for r in got["resources"].values()] == [
        list(r["inputs"]) for r in expected["resources"].values()
    ]
    assert got["resources"]["web-b"]["inputs"]["port"] == 2**70


def test_secret_inputs_are_masked_without_opening_them(ctx: retrograde.Context) -> None:
    """A secret input (in any version of its type) is ``***``, sealed or not; null stays null."""
    answer = reading.state_json(ctx, secrets_of(ctx))
    for hidden in (b"hunter2", b"$sealed", b"bm9uY2U"):
        assert hidden not in answer
    resources = parse(answer)["resources"]
    assert resources["Vault"]["inputs"] == {"password": MASK, "host": "db1", "pin": None}
    assert resources["vault-plain"]["inputs"] == {"password": MASK, "host": "db2"}


def test_one_resource_or_an_unknown_one(ctx: retrograde.Context) -> None:
    secrets = secrets_of(ctx)
    one = parse(reading.state_json(ctx, secrets, "édge"))
    assert list(one["resources"]) == ["édge"]
    assert one["resources"]["édge"]["connections"] == {"upstream": "Vault.host"}
    with pytest.raises(NotFoundError):
        reading.state_json(ctx, secrets, "nothing-here")
