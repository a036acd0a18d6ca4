"""The refresh verb: run ``read`` actions and show where the world drifted from committed state.

Drift is never applied silently. Without an option, ``refresh`` only reports.
``accept`` records the observed values as ``observe`` commits (forward and
reverse diff, principal, time, message, an apply record of kind ``observe``)
and stages what they mean for consumers, exactly as staging would: their
updates are staged, not applied. ``restore`` writes the same ``observe``
commits and then stages the way back (observed -> committed), so the normal
plan and apply put the world back, and either step reverts cleanly.

The store lock is held from the reads to the last write, as ``stage`` holds
it, so no apply changes committed state between a read and its comparison.

Secret inputs are read and compared in plaintext: the committed values of
the resources read are opened with the store's key (without it, the
:class:`~retrograde.errors.SecretKeyError` naming the key file, before any read
runs, as ``apply`` fails), so a read is given what ``run`` is given and an
unchanged secret is no drift. What is returned shows a drifted secret as
``***`` on both sides. ``accept`` and ``restore`` plan in plaintext, as
staging does, and seal what they write: an observed secret is encrypted once,
an unchanged one keeps its ciphertext (:mod:`retrograde.storage.sealing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.rollback import refuse_if_staged
from retrograde.commands.views import Secrets
from retrograde.engine.committing import commit_changes
from retrograde.engine.reading import Finished, read_request, run_reads
from retrograde.errors import StateError
from retrograde.executors.registry import DEFAULT_EXECUTOR, executor_for
from retrograde.executors.wire_secrets import WireSecrets
from retrograde.model.apply import ActionResult, ApplyKind
from retrograde.model.change import Change, make_change
from retrograde.model.commit import Commit
from retrograde.model.drift import InputDriftJSON, RefreshJSON
from retrograde.model.jsonvalue import JSON
from retrograde.model.masking import SecretMask, secret_values
from retrograde.model.secrets import MASK
from retrograde.model.state import ResourceState, State
from retrograde.model.types import ResourceType, TypeKey
from retrograde.planning.diffing import stage_changes
from retrograde.planning.drift import (
    READ_ACTION,
    Drift,
    InputDrift,
    ReadProblem,
    connected_drift,
    drift_of,
    observe_change,
    reported_inputs,
)
from retrograde.planning.propagation import propagate
from retrograde.planning.selection import Selection, TagPairs
from retrograde.storage.base import Transaction
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sealing import Opener, Sealer, secret_names


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What refresh found and did.

    ``drift``: resource -> input -> committed and observed value, only where
    they differ (a secret input's as ``***``); ``failed``: resource -> why its read gave no answer;
    ``observed``: the ``observe`` commits written (``accept``/``restore``);
    ``staged``: the changes staged after them.
    """

    drift: Mapping[str, Mapping[str, InputDrift]]
    failed: Mapping[str, str]
    observed: tuple[Commit, ...] = ()
    staged: Mapping[str, Change] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    """Resource -> its type name, for masking its secrets in views."""

    def to_json(self, secrets: Secrets) -> RefreshJSON:
        """``refresh --json``: drift (secrets masked), failures, what was written."""
        drift: dict[str, dict[str, InputDriftJSON]] = {}
        for name, inputs in self.drift.items():
            hidden = secrets.of(self.types.get(name, ""))
            drift[name] = {
                key: {
                    "committed": _shown(entry.committed, key in hidden),
                    "observed": _shown(entry.observed, key in hidden),
                }
                for key, entry in inputs.items()
            }
        return {
            "drift": drift,
            "failed": dict(self.failed),
            "observed": [commit.rev for commit in self.observed],
            "staged": sorted(self.staged),
        }


def refresh(
    ctx: Context,
    resources: Iterable[str] = (),
    *,
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
    executor: str = DEFAULT_EXECUTOR,
    jobs: int = 4,
    accept: bool = False,
    restore: bool = False,
    message: str = "",
    finished: Finished | None = None,
) -> Refreshed:
    """Read the selected resources (all, when none is named or tagged) and compare.

    Only resources whose type declares a ``read`` action are read; naming one
    whose type declares none is its failure. ``accept`` and ``restore`` refuse
    while changes are staged (as ``revert`` does) and when there is drift on a
    connected input to accept (a StateError naming it); with neither, nothing
    is written. A resource read with a sealed secret input needs the store's key
    (:class:`~retrograde.errors.SecretKeyError` naming the key file before any read
    runs), and so do ``accept`` and ``restore`` when any committed value is sealed.
    """
    if accept and restore:
        raise StateError("refresh takes --accept or --restore, not both")
    writing = accept or restore
    with exclusive(ctx, "refresh"):
        with ctx.store.read() as tx:
            if writing:
                refuse_if_staged(tx, "refresh --accept" if accept else "refresh --restore")
            committed = tx.state.load()
            types = tx.state.types()
        named = list(resources)
        names = _selected(committed, named, tags, exclude)
        readable, failed = _readable(committed, types, names, set(named))
        opener = Opener(ctx.keys.box)
        plain = opener.states(committed if writing else {n: committed[n] for n in readable})
        results = _read(ctx, opener, plain, types, readable, executor, jobs, finished)
        drift = _compare(plain, types, results, failed)
        kinds = {name: committed[name].type for name in drift}
        shown = _masked_drift(plain, types, drift)
        if not writing or not drift:
            return Refreshed(shown, failed, types=kinds)
        if accept:
            _refuse_connected(committed, drift)
        sealer = Sealer(opener, ctx.keys.sealing_box, secret_names(types))
        changes, staged = _recorded(plain, drift, restore, sealer)
        with ctx.store.write() as tx:
            written = _record(tx, ctx.principal, message, changes, staged, restore)
    return Refreshed(shown, failed, tuple(written), staged, kinds)


def _selected(
    committed: State, named: list[str], tags: TagPairs, exclude: Iterable[str]
) -> list[str]:
    """The resources to read, in name order: named and tagged ones (all when neither)."""
    chosen = Selection.of(named, tags).pick(committed)
    return sorted(chosen - set(exclude))


def _readable(
    committed: State, types: Mapping[TypeKey, ResourceType], names: list[str], named: set[str]
) -> tuple[list[str], dict[str, str]]:
    """The ``names`` whose type declares a read; a resource named on purpose whose type
    declares none is a failure (others are left out)."""
    readable: list[str] = []
    failed: dict[str, str] = {}
    for name in names:
        state = committed[name]
        rtype = types.get(state.type_key)
        if rtype is not None and READ_ACTION in rtype.actions:
            readable.append(name)
        elif name in named:
            failed[name] = f"type {state.type!r} v{state.version} declares no read action"
    return readable, failed


def _read(
    ctx: Context,
    opener: Opener,
    plain: State,
    types: Mapping[TypeKey, ResourceType],
    names: list[str],
    executor: str,
    jobs: int,
    finished: Finished | None,
) -> dict[str, ActionResult]:
    """The result of the read of every resource in ``names`` (``plain``: their committed
    state in plaintext), run through a new executor named ``executor`` built as ``apply``
    builds its own (the store's scope; secrets sealed on the wire with the ciphertext
    ``opener`` read them with)."""
    if not names:
        return {}
    requests = {
        name: read_request(name, plain[name], types[plain[name].type_key]) for name in names
    }
    wire = WireSecrets(ctx.keys, opener)
    runner = executor_for(executor, jobs, scope=ctx.store.url, secrets=wire)
    try:
        return run_reads(runner, requests, finished)
    finally:
        runner.shutdown()


def _compare(
    committed: State,
    types: Mapping[TypeKey, ResourceType],
    results: Mapping[str, ActionResult],
    failed: dict[str, str],
) -> dict[str, dict[str, InputDrift]]:
    """The drift the results show against ``committed`` (in plaintext), in name order; a
    result that says nothing usable is added to ``failed`` (which ends in name order)."""
    drift: dict[str, dict[str, InputDrift]] = {}
    for name in sorted(results):
        state = committed[name]
        rtype = types[state.type_key]
        try:
            found = drift_of(state, reported_inputs(results[name], rtype))
        except ReadProblem as problem:
            failed[name] = _masked(str(problem), state, rtype)
            continue
        if found:
            drift[name] = found
    ordered = sorted(failed.items())
    failed.clear()
    failed.update(ordered)
    return drift


def _masked(text: str, state: ResourceState, rtype: ResourceType) -> str:
    """``text`` with the resource's committed secret values (``state`` in plaintext) masked."""
    values = secret_values(rtype.secrets, state.inputs, None, {})
    return SecretMask(values)(text) if values else text


def _masked_drift(
    committed: State, types: Mapping[TypeKey, ResourceType], drift: Drift
) -> dict[str, dict[str, InputDrift]]:
    """``drift`` as refresh shows it: each secret input's values as ``***``."""
    shown: dict[str, dict[str, InputDrift]] = {}
    for name, inputs in drift.items():
        hidden = types[committed[name].type_key].secrets
        shown[name] = {
            key: InputDrift(_shown(entry.committed, True), _shown(entry.observed, True))
            if key in hidden
            else entry
            for key, entry in inputs.items()
        }
    return shown


def _refuse_connected(committed: State, drift: Mapping[str, Mapping[str, InputDrift]]) -> None:
    """StateError for the first drifted input that takes its value through a connection."""
    for name, inputs in drift.items():
        connected = connected_drift(committed[name], inputs)
        if connected:
            slot = committed[name].connections[connected[0]]
            raise StateError(
                f"cannot accept drift of {name}.{connected[0]}: it is connected to {slot}; "
                "change the producer, or use --restore"
            )


def _recorded(
    plain: State, drift: Drift, restore: bool, sealer: Sealer
) -> tuple[list[Change], dict[str, Change]]:
    """The ``observe`` changes and what to stage after them, planned on ``plain`` (committed
    state in plaintext) and sealed by ``sealer``: the staged changes start from the
    very ciphertexts the observe commits store."""
    changes = [observe_change(name, plain[name], drift[name]) for name in drift]
    after = dict(plain)
    after.update((c.resource, c.after) for c in changes if c.after is not None)
    staged = _restoring(plain, after, drift) if restore else stage_changes(after, propagate(after))
    observed = [sealer.change(change) for change in changes]  # first: their new ciphertexts
    return observed, {name: sealer.change(change) for name, change in staged.items()}


def _record(
    tx: Transaction,
    principal: str,
    message: str,
    changes: list[Change],
    staged: Mapping[str, Change],
    restore: bool,
) -> list[Commit]:
    """In ``tx``: the ``observe`` commits (one apply of kind ``observe``), then the staged log."""
    now = utc_now()
    text = message or ("refresh --restore" if restore else "refresh --accept")
    record = tx.applies.record(principal, text, now, changes, ApplyKind.OBSERVE)
    written = commit_changes(tx, record.id, principal, text, [CommitEntry(c, now) for c in changes])
    tx.staged.replace(list(staged.values()))
    return written


def _restoring(
    committed: State, observed: State, drift: Mapping[str, Mapping[str, InputDrift]]
) -> dict[str, Change]:
    """The changes back from the observed values to the committed ones, one per resource."""
    found: dict[str, Change] = {}
    for name in drift:
        change = make_change(name, observed[name], committed[name])
        if change is not None:
            found[name] = change
    return found


def _shown(value: JSON, secret: bool) -> JSON:
    return MASK if secret and value is not None else value
