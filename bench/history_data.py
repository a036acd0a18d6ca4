"""A deployment-shaped commit history for the history benchmark, generated without handlers.

The deployment has nodes, services connected to their node's ``ip`` (with a
secret ``password``) and load balancers that fan in service addresses. Applies
are what operators do every day, weighted: roll out a new image to a group of
services, scale, change a port, renumber a node (which flows to its services
and balancers), move a service to another node (run new, update balancers,
remove old), rotate passwords, and revert the previous apply. Every change
goes through :func:`make_change` and :func:`build_commit`, so the commits are
exactly what an apply would write. Seeded, so every run builds the same history.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from retrograde.history import lines as export_lines
from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.chain import ChainPoint
from retrograde.model.change import Change, make_change
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.commit_builder import build_commit
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, InputKind, InputSpec, ResourceType

NODES = 200
SERVICES_PER_NODE = 9
BALANCERS = 20
APPS = ("api", "auth", "billing", "catalog", "search", "media", "notify", "report", "queue")
PRINCIPALS = (
    ("ci-bot", 30),
    ("alice", 10),
    ("bob", 8),
    ("carol", 6),
    ("dave", 5),
    ("erin", 4),
    ("frank", 3),
    ("grace", 2),
    ("heidi", 1),
    ("ivan", 1),
)
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
_BALANCER_NAMES = tuple(f"lb-{b:02d}" for b in range(BALANCERS))

_NOOP = ActionSpec("python", "noop:noop")
_ACTIONS = {"run": _NOOP, "update": _NOOP, "remove": _NOOP}
TYPES = (
    ResourceType("node", 1, {"ip": InputSpec("ip", InputKind.STRING)}, _ACTIONS),
    ResourceType(
        "service",
        1,
        {
            "ip": InputSpec("ip", InputKind.STRING),
            "port": InputSpec("port", InputKind.INTEGER),
            "image": InputSpec("image", InputKind.STRING),
            "replicas": InputSpec("replicas", InputKind.INTEGER),
            "password": InputSpec("password", InputKind.STRING, secret=True),
        },
        _ACTIONS,
    ),
    ResourceType("lb", 1, {"backends": InputSpec("backends", InputKind.LIST)}, _ACTIONS),
)


@dataclass
class GeneratedApply:
    """One apply of the generated history and the commits it wrote."""

    record: ApplyRecord
    commits: list[Commit]


class HistoryGenerator:
    """Yields applies with their commits until ``total`` commits exist (see module docstring)."""

    def __init__(self, total: int, *, seed: int = 5) -> None:
        self.total = total
        self.random = random.Random(seed)
        self.state: dict[str, ResourceState] = {}
        self.rev = 0
        self.apply_id = 0
        self.previous_hash = GENESIS_HASH
        self.clock = START
        self.versions = dict.fromkeys(APPS, 0)
        self.next_service = 0
        self.last_apply: list[Commit] = []
        self.by_app: dict[str, list[str]] = {app: [] for app in APPS}
        self.by_node: dict[str, list[str]] = {}

    def applies(self) -> Iterator[GeneratedApply]:
        yield self._apply("ci-bot", "initial deployment", self._initial_changes())
        while self.rev < self.total:
            principal = self._principal()
            message, changes = self._pick()
            if changes:
                yield self._apply(principal, message, changes[: self.total - self.rev])

    # applies

    def _pick(self) -> tuple[str, list[Change]]:
        roll = self.random.random()
        kinds = (
            (0.40, self._rollout),
            (0.58, self._scale),
            (0.68, self._port),
            (0.76, self._renumber),
            (0.88, self._move),
            (0.94, self._rotate),
            (1.00, self._revert),
        )
        for limit, kind in kinds:
            if roll < limit:
                return kind()
        return self._rollout()

    def _initial_changes(self) -> list[Change]:
        desired: dict[str, ResourceState] = {}
        for n in range(NODES):
            desired[_node(n)] = self._node_state(n, f"10.{n // 250}.{n % 250}.10")
        for n in range(NODES):
            for _ in range(SERVICES_PER_NODE):
                name, state = self._new_service(n, desired)
                desired[name] = state
        services = sorted(name for name in desired if name.startswith("svc-"))
        for b, lb in enumerate(_BALANCER_NAMES):
            desired[lb] = _balancer(services[b::BALANCERS][:10], desired)
        return [_made(name, None, state) for name, state in desired.items()]

    def _rollout(self) -> tuple[str, list[Change]]:
        app = self.random.choice(APPS)
        self.versions[app] += 1
        image = f"registry.example.com/{app}:2.{self.versions[app] // 10}.{self.versions[app]}"
        targets = self._services(app)
        count = self.random.randint(1, min(len(targets), 40))
        changes = self._updates(self.random.sample(targets, count), image=image)
        return f"roll out {app} {image.rpartition(':')[2]}", changes

    def _scale(self) -> tuple[str, list[Change]]:
        app = self.random.choice(APPS)
        replicas = self.random.randint(1, 12)
        services = self._services(app)
        targets = self.random.sample(services, self.random.randint(1, min(4, len(services))))
        return f"scale {app} to {replicas}", self._updates(targets, replicas=replicas)

    def _port(self) -> tuple[str, list[Change]]:
        name = self.random.choice(self._services(None))
        port = self.random.choice((8080, 8443, 9000, 9090, 5000, 5001))
        return f"move {name} to port {port}", self._updates([name], port=port)

    def _renumber(self) -> tuple[str, list[Change]]:
        n = self.random.randrange(NODES)
        ip = f"10.{self.random.randint(0, 9)}.{n % 250}.{self.random.randint(10, 250)}"
        new = dict(self.state)
        new[_node(n)] = self._node_state(n, ip)
        for name in self.by_node.get(_node(n), ()):
            new[name] = _with(self.state[name], ip=ip)
        _refresh_balancers(new)
        touched = [_node(n), *self.by_node.get(_node(n), ()), *_BALANCER_NAMES]
        return f"renumber {_node(n)}", self._diff_to(new, touched)

    def _move(self) -> tuple[str, list[Change]]:
        old = self.random.choice(self._services(None))
        target = self.random.randrange(NODES)
        new = dict(self.state)
        name, state = self._new_service(target, new, like=self.state[old])
        new[name] = state
        for lb in _BALANCER_NAMES:
            rs = self.state[lb]
            slots = rs.connections.get("backends")
            if isinstance(slots, list) and f"{old}.ip" in slots:
                refs = [f"{name}.ip" if ref == f"{old}.ip" else ref for ref in slots]
                new[lb] = ResourceState("lb", 1, {}, {"backends": refs}, dict(rs.tags))
        del new[old]
        _refresh_balancers(new)
        return f"move {old} to {_node(target)}", self._diff_to(new, [name, *_BALANCER_NAMES, old])

    def _rotate(self) -> tuple[str, list[Change]]:
        app = self.random.choice(APPS)
        targets = self._services(app)
        chosen = self.random.sample(targets, self.random.randint(1, min(len(targets), 20)))
        changes = [
            change
            for n in chosen
            for change in self._updates([n], password=self.random.randbytes(12).hex())
        ]
        return f"rotate {app} passwords", changes

    def _revert(self) -> tuple[str, list[Change]]:
        changes: list[Change] = []
        if self.apply_id == 1:
            return "", changes
        for commit in reversed(self.last_apply):
            before = self.state.get(commit.resource)
            after = _state_before(commit, before)
            made = make_change(commit.resource, before, after, reverts=(commit.rev,))
            if made is not None:
                changes.append(made)
        return f"revert apply {self.apply_id}", changes

    # helpers

    def _apply(self, principal: str, message: str, changes: list[Change]) -> GeneratedApply:
        self.apply_id += 1
        self.clock += timedelta(seconds=self.random.expovariate(1 / 300))
        started = _stamp(self.clock)
        commits = [self._commit(change, principal, message) for change in changes]
        self.last_apply = commits
        record = ApplyRecord(
            id=self.apply_id,
            principal=principal,
            message=message,
            status=ApplyStatus.SUCCEEDED,
            started_at=started,
            ended_at=_stamp(self.clock + timedelta(milliseconds=40)),
            succeeded=len(commits),
        )
        return GeneratedApply(record, commits)

    def _commit(self, change: Change, principal: str, message: str) -> Commit:
        self.rev += 1
        if self.random.random() < 0.3:
            self.clock += timedelta(microseconds=self.random.randint(20_000, 2_000_000))
        commit = build_commit(
            change,
            rev=self.rev,
            apply_id=self.apply_id,
            principal=principal,
            timestamp=_stamp(self.clock),
            message=message,
            previous_hash=self.previous_hash,
        )
        self.previous_hash = commit.hash
        self._track(change)
        return commit

    def _track(self, change: Change) -> None:
        """Keep ``state`` and the by-app and by-node lists of services current."""
        name, before, after = change.resource, change.before, change.after
        if before is not None and before.type == "service" and after is None:
            self.by_app[before.tags["app"]].remove(name)
            self.by_node[before.tags["node"]].remove(name)
        if after is not None and after.type == "service" and before is None:
            self.by_app[after.tags["app"]].append(name)
            self.by_node.setdefault(after.tags["node"], []).append(name)
        if after is None:
            del self.state[name]
        else:
            self.state[name] = after

    def _principal(self) -> str:
        names = [name for name, _ in PRINCIPALS]
        weights = [weight for _, weight in PRINCIPALS]
        return self.random.choices(names, weights)[0]

    def _services(self, app: str | None) -> list[str]:
        return self.by_app[app or self.random.choice(APPS)]

    def _updates(self, names: list[str], **inputs: object) -> list[Change]:
        """Updates setting ``inputs`` on ``names``, leaving out those already there."""
        made = [make_change(n, self.state[n], _with(self.state[n], **inputs)) for n in names]
        return [c for c in made if c is not None]

    def _diff_to(self, new: dict[str, ResourceState], names: list[str]) -> list[Change]:
        """Changes from current state to ``new`` for ``names``, in that order (plan-like)."""
        made = [make_change(n, self.state.get(n), new.get(n)) for n in names]
        return [c for c in made if c is not None]

    def _node_state(self, n: int, ip: str) -> ResourceState:
        return ResourceState("node", 1, {"ip": ip}, {}, {"node": _node(n), "rack": f"r{n // 20}"})

    def _new_service(
        self, n: int, state: dict[str, ResourceState], like: ResourceState | None = None
    ) -> tuple[str, ResourceState]:
        self.next_service += 1
        app = like.tags["app"] if like else APPS[self.next_service % len(APPS)]
        inputs = {
            "ip": state[_node(n)].inputs["ip"],
            "port": like.inputs["port"] if like else 8080,
            "image": like.inputs["image"] if like else f"registry.example.com/{app}:2.0.0",
            "replicas": like.inputs["replicas"] if like else 3,
            "password": self.random.randbytes(12).hex(),
        }
        tags = {"node": _node(n), "app": app}
        return (
            f"svc-{app}-{self.next_service:05d}",
            ResourceState("service", 1, inputs, {"ip": f"{_node(n)}.ip"}, tags),
        )


def _node(n: int) -> str:
    return f"node-{n:03d}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _with(rs: ResourceState, **inputs: object) -> ResourceState:
    return ResourceState(rs.type, rs.version, {**rs.inputs, **inputs}, rs.connections, rs.tags)


def _made(name: str, before: ResourceState | None, after: ResourceState | None) -> Change:
    made = make_change(name, before, after)
    assert made is not None
    return made


def _balancer(members: list[str], state: dict[str, ResourceState]) -> ResourceState:
    refs: list[str | None] = [f"{m}.ip" for m in members]
    backends = [state[m].inputs["ip"] for m in members]
    return ResourceState("lb", 1, {"backends": backends}, {"backends": refs}, {"tier": "edge"})


def _refresh_balancers(state: dict[str, ResourceState]) -> None:
    """Flow service addresses into the balancers' ``backends`` (what propagation does)."""
    for name in _BALANCER_NAMES:
        slots = state[name].connections.get("backends")
        if isinstance(slots, list):
            refs = [ref for ref in slots if ref is not None]
            state[name] = _balancer([ref.rpartition(".")[0] for ref in refs], state)


def _state_before(commit: Commit, current: ResourceState | None) -> ResourceState | None:
    """The resource as it was before ``commit`` (``current`` is its state after it)."""
    if commit.connections.before is None:
        return None
    inputs = dict(current.inputs) if current else {}
    for name, entry in commit.diff.items():
        if entry.get("absent") == "from":
            inputs.pop(name, None)
        else:
            inputs[name] = entry["from"]
    return ResourceState(
        commit.type,
        commit.version,
        inputs,
        commit.connections.before or {},
        commit.tags.before or {},
    )


def write_export(path: Path, total: int, *, seed: int = 5) -> tuple[int, str]:
    """Write the generated history of ``total`` commits to ``path`` as a plain export.

    The segment line names the last commit, so the body is generated into a
    side file first. Returns the last ``(rev, hash)``.
    """
    generator = HistoryGenerator(total, seed=seed)
    body = path.with_name(path.name + ".body")
    with open(body, "wb") as out:
        out.write(b"".join(export_lines.line("type", {"definition": t.to_json()}) for t in TYPES))
        for applied in generator.applies():
            record = {**applied.record.to_json(), "host": "bench", "pid": 1}
            lines = [export_lines.line("apply", record)]
            lines.extend(export_lines.commit_line(c) for c in applied.commits)
            out.write(b"".join(lines))
    last = (generator.rev, generator.previous_hash)
    with open(path, "wb") as out, open(body, "rb") as source:
        start, end = ChainPoint(0, 0, GENESIS_HASH), ChainPoint(last[0], 0, last[1])
        out.write(export_lines.segment_line(start, end, _stamp(generator.clock)))
        shutil.copyfileobj(source, out, 1 << 20)
    body.unlink()
    return last
