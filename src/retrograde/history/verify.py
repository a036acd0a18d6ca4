"""Tamper evidence: re-check the whole log and committed state against each other.

One pass over the stored commits in revision order, a batch at a time
(memory holds one batch, the replayed state and one snapshot, never the
log), through the chain audit (:mod:`retrograde.history.chain`: gaps,
hashes, timestamp order, replay). Besides, replay must give each stored
snapshot at its revision, and at the end the committed state, resource by
resource; the input index must hold one entry per input of each diff.

The caller's read transaction is one consistent moment, so a concurrent
apply cannot make log and state disagree. Problems name the revision or
resource and what is wrong, never an input's value (it could be a secret).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import orjson

from retrograde.errors import CorruptLogError
from retrograde.history.chain import (
    ChainAudit,
    EntryFeed,
    head_problems,
    record_problems,
    signature_problems,
)
from retrograde.history.clear_secrets import ClearHistory, secret_inputs
from retrograde.memory import gc_paused
from retrograde.model.jsonvalue import same_json
from retrograde.model.keys import ChainUpgrade
from retrograde.model.reports import ChainSummary, Problem, ProblemKind, VerifyReport
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.base import Transaction
from retrograde.storage.signing import Signature

MAX_PROBLEMS = 100
"""Problems listed at most; the first one is what matters, the rest give the extent."""

Snapshot = tuple[int, dict[str, ResourceState]]


@dataclass(frozen=True, slots=True)
class Trust:
    """What ``verify`` is asked to hold the chain to besides itself.

    ``keys``: raw public keys whose signatures every apply (beginning at or after
    ``trust_from``) and the head must carry (None: signatures are only checked, not
    required); ``heads``: ``(rev, hash)`` kept elsewhere, each named by ``source``.
    """

    keys: frozenset[bytes] | None = None
    trust_from: int = 0
    heads: tuple[tuple[str, int, str], ...] = ()


def verify_log(tx: Transaction, trust: Trust | None = None) -> VerifyReport:
    """Check the log and committed state that ``tx`` sees (see the module docstring)."""
    trust = trust or Trust()
    audit = ChainAudit()
    problems: list[Problem] = []
    commits = 0
    head, _ = tx.log.head()
    upgrades = tx.keys.upgrades()
    upgraded = {upgrade.old_rev: upgrade for upgrade in upgrades}
    snapshots = tx.snapshots.all()
    pending = next(snapshots, None)
    signatures = tx.chain.signatures()
    audit.watch = {s.point.rev for s in signatures} | {rev for _, rev, _ in trust.heads}
    entries = list(tx.chain.entries())
    feed = EntryFeed(audit, entries)
    clear = ClearHistory(secret_inputs(_types(tx), entries))
    for entry in entries:
        clear.entry(entry)
    with gc_paused():
        for batch in tx.log.stored(0, head):
            for stored in batch:
                if feed.before is not None and stored.rev >= feed.before:
                    problems.extend(feed.upto(stored.rev - 1))
                try:
                    body, hash_ = stored.body()
                except CorruptLogError as error:
                    problems.append(_unreadable(error, stored.rev))
                    audit.skip(stored.rev, stored.hash)
                    continue
                commits += 1
                clear.commit(body)
                found = audit.check(body, hash_)
                if found:
                    problems.extend(found)
                if upgraded and audit.rev in upgraded:
                    problems.extend(_upgrade_problems(upgraded[audit.rev], hash_))
                if pending is not None and pending[0] <= audit.rev:
                    pending = _check_snapshots(audit, snapshots, pending, problems, clear)
        problems.extend(feed.rest())
        if audit.replaying:
            problems.extend(_state_problems(tx, audit.state, clear))
    indexed = tx.log.indexed_inputs()
    if indexed != audit.inputs:
        problems.append(
            Problem(
                ProblemKind.INDEX,
                f"the input index has {indexed} entries, the commits' diffs have {audit.inputs}",
            )
        )
    problems.extend(record_problems(audit, tx.chain.records()))
    problems.extend(
        signature_problems(audit, signatures, trusted=trust.keys, trust_from=trust.trust_from)
    )
    for source, rev, hash_ in trust.heads:
        problems.extend(head_problems(audit, [(rev, hash_)], source))
    return VerifyReport(
        commits=commits,
        head_rev=audit.rev,
        head_hash=audit.commit_hash,
        resources=len(audit.state),
        problems=tuple(problems[:MAX_PROBLEMS]),
        chain_upgrades=tuple(upgrades),
        chain=_summary(audit, signatures, trust, problems),
        clear_secrets=clear.found(),
    )


def _types(tx: Transaction) -> Mapping[TypeKey, ResourceType] | None:
    """The store's type definitions; None when one cannot be read (a record problem)."""
    try:
        return tx.state.types()
    except (ValueError, KeyError, TypeError):
        return None


def _summary(
    audit: ChainAudit, signatures: list[Signature], trust: Trust, problems: list[Problem]
) -> ChainSummary:
    keys = tuple(dict.fromkeys(s.key_id for s in signatures))
    last = max(((s.point.rev, s.point.seq) for s in signatures), default=None)
    return ChainSummary(
        rev=audit.rev,
        seq=audit.seq,
        hash=audit.hash,
        entries=audit.seq,
        signatures=len(signatures),
        keys=keys,
        last_signed=last,
        trusted=None
        if trust.keys is None
        else not any(p.kind is ProblemKind.SIGNATURE for p in problems),
    )


def _upgrade_problems(upgrade: ChainUpgrade, stored_hash: str) -> list[Problem]:
    """A chain upgrade must name the hash its revision has now (else the record or the
    log was altered, and the old head hash no longer leads anywhere)."""
    if upgrade.new_hash == stored_hash:
        return []
    detail = (
        f"the chain upgrade of rev {upgrade.old_rev} says its hash became "
        f"{upgrade.new_hash[:12]}…, the log has {stored_hash[:12]}…"
    )
    return [Problem(ProblemKind.HASH, detail, rev=upgrade.old_rev)]


def _unreadable(error: CorruptLogError, rev: int) -> Problem:
    detail = error.message.removeprefix(f"rev {rev}: ")
    return Problem(ProblemKind.UNREADABLE, detail, rev=rev)


def _check_snapshots(
    audit: ChainAudit,
    snapshots: Iterator[Snapshot],
    pending: Snapshot | None,
    found: list[Problem],
    clear: ClearHistory,
) -> Snapshot | None:
    """Compare the snapshot at the audit's revision, if any; the next one still ahead."""
    while pending is not None and pending[0] <= audit.rev:
        rev, stored = pending
        if rev == audit.rev and audit.replaying:
            for name, detail in _differences(audit.state, stored, clear)[:1]:
                found.append(
                    Problem(
                        ProblemKind.SNAPSHOT, f"the snapshot here {detail}", rev=rev, resource=name
                    )
                )
        pending = next(snapshots, None)
    return pending


def _state_problems(
    tx: Transaction, replayed: Mapping[str, ResourceState], clear: ClearHistory
) -> list[Problem]:
    try:
        committed = tx.state.load()
    except (ValueError, KeyError, TypeError) as error:
        return [Problem(ProblemKind.STATE, f"committed state cannot be read ({error!r})")]
    return [
        Problem(ProblemKind.STATE, f"committed state {detail}", resource=name)
        for name, detail in _differences(replayed, committed, clear)
    ]


def _differences(
    expected: Mapping[str, ResourceState],
    actual: Mapping[str, ResourceState],
    clear: ClearHistory | None = None,
) -> list[tuple[str, str]]:
    """``(resource, what differs)`` where ``actual`` departs from ``expected`` (the log).

    A value of a secret input that the log holds in clear and ``actual`` sealed is the same
    when ``clear`` says the input is secret (sealed when the input was declared secret;
    without the key, all that can be said)."""
    clear = clear if clear is not None else ClearHistory({})
    if expected.keys() == actual.keys() and _same_states(expected, actual):
        return []
    found: list[tuple[str, str]] = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            found.append((name, "lacks this resource, which the log has"))
        elif name not in expected:
            found.append((name, "has this resource, which the log does not"))
        else:
            parts = _differing_parts(expected[name], actual[name], clear)
            if parts:
                found.append((name, f"differs from the log in {', '.join(parts)}"))
    return found


def _same_states(
    expected: Mapping[str, ResourceState], actual: Mapping[str, ResourceState]
) -> bool:
    """JSON equality of two states with the same names; at once when orjson writes both
    the same (resources as dataclasses, names sorted) and they are equal by ``==`` (which
    tells a null from a NaN), else resource by resource as :func:`same_json` says."""
    try:
        left = orjson.dumps(expected, option=orjson.OPT_SORT_KEYS)
        same = left == orjson.dumps(actual, option=orjson.OPT_SORT_KEYS) and expected == actual
    except (TypeError, orjson.JSONEncodeError):
        same = False
    return same or same_json(_as_json(expected), _as_json(actual))


def _as_json(state: Mapping[str, ResourceState]) -> dict[str, object]:
    """The state in JSON, its resources in name order (two equal states give equal orjson
    bytes, which :func:`same_json` tries first)."""
    return {name: state[name].to_json() for name in sorted(state)}


def _differing_parts(
    expected: ResourceState, actual: ResourceState, clear: ClearHistory
) -> list[str]:
    parts = [
        f"input {key!r}"
        for key in sorted(expected.inputs.keys() | actual.inputs.keys())
        if key not in expected.inputs
        or key not in actual.inputs
        or not (
            same_json(expected.inputs[key], actual.inputs[key])
            or clear.sealed_since(actual.type, key, expected.inputs[key], actual.inputs[key])
        )
    ]
    for label, mine, theirs in (
        ("type", [expected.type, expected.version], [actual.type, actual.version]),
        ("connections", dict(expected.connections), dict(actual.connections)),
        ("tags", dict(expected.tags), dict(actual.tags)),
    ):
        if not same_json(mine, theirs):
            parts.append(label)
    return parts
