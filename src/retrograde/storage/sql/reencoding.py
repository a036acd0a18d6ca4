"""Sealing the secret values a store holds in clear: the one-off data step of revision 0006.

Stores (and imports of exports) from before secrets were encrypted at rest
hold every secret value in clear: in commit payloads, committed state,
snapshots and the staged log. :func:`seal_clear_secrets` walks the log once
in revision order and seals each clear value of a secret input (secret in
any version of the commit's type), keeping one ciphertext per value a
resource input held, so that the commit that set a value, the ones that
later name it as their ``from``, committed state and snapshots all hold the
same ciphertext (replay and ``verify`` still match). Every hash from the
first changed commit on is recomputed; the head before and after is kept as a
:class:`~retrograde.model.keys.ChainUpgrade` (``tx.keys.record_upgrade``),
so that the old head hash still leads to the new chain.

Commits are read and rewritten a batch at a time; a store without a secret
input in any type costs one query.

:func:`seal_clear_state` is the lighter step taken when a type declares an
input secret after values of it were committed in clear: committed state,
every snapshot and the staged log are sealed, and the commits are left as
they are (their hashes, the chain entries after them, signatures and
witnessed heads all stay valid). ``verify`` then names the revisions whose
commits still hold such values in clear.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import zstandard
from sqlalchemy import bindparam, select

from retrograde.model.change import Diff, reverse_diff
from retrograde.model.commit import GENESIS_HASH, Commit, commit_hash
from retrograde.model.jsonvalue import JSON, canonical_bytes
from retrograde.model.keys import ChainUpgrade
from retrograde.model.sealed import is_sealed
from retrograde.model.state import ResourceState
from retrograde.storage.base import Transaction
from retrograde.storage.crypto import SecretBox
from retrograde.storage.sealing import Opener, Sealer, SecretNames, secret_names
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import commit_inputs, commits, resources, snapshots
from retrograde.storage.sql.transaction import sql_connection

BoxOf = Callable[[], SecretBox]

_Current = dict[tuple[str, str], tuple[bytes, JSON]]
"""``(resource, input) -> (canonical plaintext, ciphertext)``: what each input holds now."""


def seal_clear_secrets(tx: Transaction, box: BoxOf, *, reason: str, at: str) -> ChainUpgrade | None:
    """Seal every secret value ``tx``'s store holds in clear; the chain upgrade it made, if
    its hashes changed. ``box`` is asked for only when a clear secret is found."""
    names = secret_names(tx.state.types())
    if not any(names(t, 0) for t in {key[0] for key in tx.state.types()}):
        return None
    walk = _Walk(tx, box, names)
    old = tx.log.head()
    walk.commits()
    walk.state()
    walk.staged()
    new = tx.log.head()
    if new == old:
        return None
    upgrade = ChainUpgrade(old[0], old[1], new[1], reason, at)
    tx.keys.record_upgrade(upgrade)
    return upgrade


def seal_clear_state(tx: Transaction, box: BoxOf) -> None:
    """Seal every clear value of a secret input in ``tx``'s committed state, snapshots and
    staged log; the commits keep theirs (see the module docstring). Snapshots get the
    ciphertext committed state has for the same value; ``box`` is asked for only when a
    clear value is found."""
    types = tx.state.types()
    if not any(rtype.secrets for rtype in types.values()):
        return
    walk = _Walk(tx, box, secret_names(types))
    walk.state()
    for rev in sorted(walk.snapshot_revs()):
        walk.snapshot(rev)
    walk.staged()


class _Walk:
    """One pass over a store: what each secret input holds as of the commit being read."""

    def __init__(self, tx: Transaction, box: BoxOf, names: SecretNames) -> None:
        self.tx = tx
        self.conn = sql_connection(tx)
        self.names = names
        self.box_of = box
        self.box: SecretBox | None = None
        self.current: _Current = {}

    def seal(self, resource: str, name: str, value: JSON, *, setting: bool) -> JSON:
        """``value`` of ``resource.name`` sealed: the ciphertext it holds now if the same,
        else a new one (which it holds from now on when ``setting``)."""
        if value is None or is_sealed(value):
            return value
        plain = canonical_bytes(value)
        held = self.current.get((resource, name))
        if held is not None and held[0] == plain:
            return held[1]
        if self.box is None:
            self.box = self.box_of()
        sealed = self.box.seal(resource, name, value)
        if setting:
            self.current[(resource, name)] = (plain, sealed)
        return sealed

    def commits(self) -> None:
        """Seal the log's clear secrets and rehash from the first commit that changed."""
        previous = GENESIS_HASH
        changed = False
        snaps = self.snapshot_revs()
        for batch in self.tx.log.stored(0, self.tx.log.head()[0]):
            updates = []
            for stored in batch:
                commit = stored.decode()
                diff = self._diff(commit)
                if diff is not commit.diff or changed:
                    changed = True
                    commit = dataclasses.replace(commit, diff=diff, reverse=reverse_diff(diff))
                    commit = dataclasses.replace(commit, hash=commit_hash(commit.body(), previous))
                    updates.append(rows.commit_row(commit))
                previous = commit.hash
                if commit.rev in snaps:
                    self.snapshot(commit.rev)
            self._rewrite(updates)

    def _diff(self, commit: Commit) -> Diff:
        secret = self.names(commit.type, commit.version) & commit.diff.keys()
        if not any(
            not is_sealed(v) and v is not None
            for name in secret
            for side, v in commit.diff[name].items()
            if side in ("from", "to")
        ):
            self._hold(commit, secret)
            return commit.diff
        out: dict[str, dict[str, JSON]] = {k: dict(v) for k, v in commit.diff.items()}
        for name in secret:
            entry = out[name]
            entry["from"] = self.seal(commit.resource, name, entry["from"], setting=False)
            entry["to"] = self.seal(commit.resource, name, entry["to"], setting=True)
            if entry["to"] is None:
                self.current.pop((commit.resource, name), None)
        return out

    def _hold(self, commit: Commit, secret: frozenset[str]) -> None:
        """Remember what already-sealed secrets a commit sets (a store sealed in part)."""
        for name in secret:
            value = commit.diff[name].get("to")
            if is_sealed(value):
                self.current[(commit.resource, name)] = (b"", value)

    def _rewrite(self, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        statement = (
            commits.update()
            .where(commits.c.rev == bindparam("b_rev"))
            .values(payload=bindparam("b_payload"), hash=bindparam("b_hash"))
        )
        self.conn.execute(
            statement,
            [{"b_rev": u["rev"], "b_payload": u["payload"], "b_hash": u["hash"]} for u in updates],
        )

    def snapshot_revs(self) -> set[int]:
        return {int(rev) for rev in self.conn.execute(select(snapshots.c.rev)).scalars()}

    def snapshot(self, rev: int) -> None:
        """The snapshot of ``rev`` with what each secret input held at ``rev``."""
        blob = self.conn.execute(select(snapshots.c.state).where(snapshots.c.rev == rev)).scalar()
        assert blob is not None
        data: dict[str, Any] = json.loads(zstandard.ZstdDecompressor().decompress(blob))
        found = dict(self._sealed_states(data.items()))
        if not found:
            return
        for name, state in found.items():
            data[name] = state.to_json()
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        compressed = zstandard.ZstdCompressor(level=3).compress(text)
        self.conn.execute(snapshots.update().where(snapshots.c.rev == rev).values(state=compressed))

    def _sealed_states(
        self, states: Iterator[tuple[str, Any]] | Any, *, setting: bool = False
    ) -> Iterator[tuple[str, ResourceState]]:
        for name, raw in states:
            state = raw if isinstance(raw, ResourceState) else ResourceState.from_json(raw)
            secret = self.names(state.type, state.version)
            inputs = {
                k: self.seal(name, k, v, setting=setting) if k in secret else v
                for k, v in state.inputs.items()
            }
            if inputs != dict(state.inputs):
                yield name, dataclasses.replace(state, inputs=inputs)

    def state(self) -> None:
        """Committed state with the ciphertexts its values were committed with (none: new
        ones, which snapshots and the staged log then reuse for the same value)."""
        found = dict(self._sealed_states(self.tx.state.load().items(), setting=True))
        if found:
            self.tx.state.put(dict[str, ResourceState | None](found))

    def staged(self) -> None:
        """The staged log sealed, its ``from`` sides with committed state's ciphertexts (its
        moves, staged from sealed state only, are kept as they are)."""
        staged = self.tx.staged.load()
        if not staged:
            return
        opener = Opener(self._box)
        opener.known.update(
            {(r, n, plain): sealed for (r, n), (plain, sealed) in self.current.items() if plain}
        )
        sealer = Sealer(opener, self._box, self.names)
        sealed = {name: sealer.change(opener.change(c)) for name, c in staged.items()}
        if sealed != staged:
            self.tx.staged.replace(list(sealed.values()), None)

    def _box(self) -> SecretBox:
        if self.box is None:
            self.box = self.box_of()
        return self.box


def forget_loaded(tx: Transaction) -> None:
    """Delete what an import loaded so far (commits, their index, committed state,
    snapshots), in its transaction: the export restates them sealed (``restates``)."""
    conn = sql_connection(tx)
    for table in (commit_inputs, snapshots, commits, resources):
        conn.execute(table.delete())
