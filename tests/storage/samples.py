"""Sample values for the store tests: resources, changes, types, and a staged-and-begun apply."""

from __future__ import annotations

from collections.abc import Sequence

from retrograde.model.apply import ApplyRecord
from retrograde.model.chain import ChainEntry
from retrograde.model.change import Change, make_change
from retrograde.model.commit import GENESIS_HASH, Commit, commit_hash
from retrograde.model.jsonvalue import JSON
from retrograde.model.plan import Plan, PlannedAction
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, InputKind, InputSpec, ResourceType
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls

SERVICE = ResourceType(
    name="service",
    version=1,
    inputs={
        "ip": InputSpec("ip", InputKind.STRING),
        "port": InputSpec("port", InputKind.INTEGER, default=5000, has_default=True),
        "password": InputSpec("password", InputKind.STRING, secret=True),
    },
    actions={
        "run": ActionSpec("shell", "deploy --ip {{ inputs.ip }}", timeout=30.0),
        "update": ActionSpec("shell", "reconfigure", retries=2, retry_delay=0.5),
        "remove": ActionSpec("python", "tools.undeploy:main"),
    },
    base_dir="/srv/stack",
    migrations=({"from": 1, "to": 2, "rename": {"addr": "ip"}},),
)

NODE = ResourceType(
    name="node",
    version=1,
    inputs={"ip": InputSpec("ip", InputKind.STRING)},
    actions={"run": ActionSpec("shell", "true")},
)

AWKWARD_INPUTS: dict[str, JSON] = {
    "ip": "10.0.0.1",
    "port": 5000,
    "ratio": 1.0,
    "half": 0.5,
    "big": 2**53 + 1,
    "flag": False,
    "nothing": None,
    "unicode": "ключ ✓ 鍵",
    "control": 'nul\x00tab\tquote"back\\slash',
    "nested": {"list": [1, "two", [3.25, None], {"deep": True}], "empty": {}},
    "percent_%_": "100%_sure",
}


def node(ip: str, **tags: str) -> ResourceState:
    return ResourceState(type="node", version=1, inputs={"ip": ip}, tags=tags)


def service(ip: str, *, producer: str = "node1", **extra: JSON) -> ResourceState:
    """A service whose ``ip`` is connected to ``producer.ip``."""
    return ResourceState(
        type="service",
        version=1,
        inputs={"ip": ip, "port": 5000, **extra},
        connections={"ip": f"{producer}.ip", "backends": [f"{producer}.ip", None]},
        tags={"node": producer},
    )


def change(name: str, before: ResourceState | None, after: ResourceState | None) -> Change:
    made = make_change(name, before, after)
    assert made is not None
    return made


def plan_of(changes: Sequence[Change]) -> Plan:
    return Plan(tuple(PlannedAction(c.resource, c.action) for c in changes))


def stamp(second: int) -> str:
    return f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}Z"


def begin(store: Store, changes: Sequence[Change], principal: str = "alice") -> ApplyRecord:
    """Stage ``changes`` and begin an apply of them."""
    store_calls.replace_staged(store, changes, [SERVICE, NODE])
    return store_calls.begin_apply(store, principal, "deploy", plan_of(changes), stamp(0))


def commit_all(
    store: Store, changes: Sequence[Change], principal: str = "alice", start: int = 1
) -> list[Commit]:
    """Stage, begin and commit ``changes`` in one batch, timestamps from second ``start``."""
    record = begin(store, changes, principal)
    entries = [CommitEntry(c, stamp(start + i)) for i, c in enumerate(changes)]
    return store_calls.record_commits(store, record.id, principal, "deploy", entries)


def chain_breaks(
    commits_oldest_first: Sequence[Commit], entries: Sequence[ChainEntry] = ()
) -> list[int]:
    """Revisions whose hash does not follow from the chain element before it, commit or
    chain entry (empty when the chain holds)."""
    previous, bad = GENESIS_HASH, []
    pending = list(entries)
    for commit in commits_oldest_first:
        while pending and pending[0].after_rev < commit.rev:
            previous = pending.pop(0).hash
        if commit_hash(commit.body(), previous) != commit.hash:
            bad.append(commit.rev)
        previous = commit.hash
    return bad
