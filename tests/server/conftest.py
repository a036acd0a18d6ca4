"""The app over a real store on each back end, an httpx client on it, and tokens of each role.

The client is Starlette's TestClient (httpx over the ASGI app, lifespan
included), so background applies, their events and shutdown run for real;
only the network socket is left out (``test_process`` starts a real server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import retrograde
from retrograde.commands import tokens
from retrograde.model.tokens import Role
from retrograde.server.app import create_app
from retrograde.server.settings import ServerSettings
from retrograde.storage.base import Store
from tests import stacks

SLEEPY = "sleep 0.3; " + stacks.LOG
"""A handler slow enough for a test to act while the apply runs."""


@pytest.fixture
def stacks_root(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app_ctx(store: Store, tmp_path: Path) -> retrograde.Context:
    """A context on the test's store, for making tokens and reading what the API did."""
    return retrograde.Context(store=store, principal="setup", cwd=tmp_path)


@pytest.fixture
def client(store: Store, stacks_root: Path, store_url: str) -> Iterator[TestClient]:
    settings = ServerSettings(
        stacks_root=stacks_root, serialise_writes=store_url.startswith("sqlite")
    )
    with TestClient(create_app(store, settings)) as test_client:
        yield test_client


MakeToken = Callable[..., dict[str, str]]


@pytest.fixture
def token_for(app_ctx: retrograde.Context) -> MakeToken:
    """A bearer header for a new token ``name`` with ``role``."""

    def make(name: str, role: str = "operator", expires: str | None = None) -> dict[str, str]:
        _, secret = tokens.create_token(app_ctx, name, Role(role), expires=expires)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def reader(token_for: MakeToken) -> dict[str, str]:
    return token_for("rita", "reader")


@pytest.fixture
def operator(token_for: MakeToken) -> dict[str, str]:
    return token_for("olga", "operator")


@pytest.fixture
def admin(token_for: MakeToken) -> dict[str, str]:
    return token_for("adam", "admin")


def stack_text(run: str = stacks.LOG) -> str:
    """The tests' small deployment (two nodes, two services, a balancer) with this handler."""
    return stacks.types(run) + stacks.resources(
        stacks.NODES,
        stacks.KEYSTONE1,
        stacks.KEYSTONE2,
        stacks.haproxy("${keystone1.ip}", "${keystone2.ip}"),
    )


def events_of(client: TestClient, headers: dict[str, str], apply_id: int) -> list[tuple[str, str]]:
    """Every (event, data) the apply's event stream sends, to its end."""
    found: list[tuple[str, str]] = []
    with client.stream("GET", f"/api/applies/{apply_id}/events", headers=headers) as response:
        assert response.status_code == 200
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                found.append((name, line[len("data: ") :]))
    return found
