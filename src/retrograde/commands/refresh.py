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
from retrograde.model.apply import ActionRequest, ActionResult, ApplyKind
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


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What refresh found and did.

    ``drift``: resource -> input -> committed and observed value, only where
    they differ; ``failed``: resource -> why its read gave no answer;
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
    is written.
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
        reads, failed = _requests(committed, types, names, set(named))
        drift = _compare(
            committed, types, _run(reads, executor, jobs, finished, WireSecrets(ctx.keys)), failed
        )
        kinds = {name: committed[name].type for name in drift}
        if not writing or not drift:
            return Refreshed(drift, failed, types=kinds)
        if accept:
            _refuse_connected(committed, drift)
        with ctx.store.write() as tx:
            written, staged = _record(tx, ctx.principal, message, committed, drift, restore)
    return Refreshed(drift, failed, tuple(written), staged, kinds)


def _selected(
    committed: State, named: list[str], tags: TagPairs, exclude: Iterable[str]
) -> list[str]:
    """The resources to read, in name order: named and tagged ones (all when neither)."""
    chosen = Selection.of(named, tags).pick(committed)
    return sorted(chosen - set(exclude))


def _requests(
    committed: State, types: Mapping[TypeKey, ResourceType], names: list[str], named: set[str]
) -> tuple[dict[str, ActionRequest], dict[str, str]]:
    """The read requests of ``names`` whose type declares a read; a resource named on purpose
    whose type declares none is a failure (others are left out)."""
    requests: dict[str, ActionRequest] = {}
    failed: dict[str, str] = {}
    for name in names:
        state = committed[name]
        rtype = types.get(state.type_key)
        if rtype is not None and READ_ACTION in rtype.actions:
            requests[name] = read_request(name, state, rtype)
        elif name in named:
            failed[name] = f"type {state.type!r} v{state.version} declares no read action"
    return requests, failed


def _run(
    requests: Mapping[str, ActionRequest],
    executor: str,
    jobs: int,
    finished: Finished | None,
    secrets: WireSecrets,
) -> dict[str, ActionResult]:
    """The result of every request, run through a new executor named ``executor``."""
    if not requests:
        return {}
    runner = executor_for(executor, jobs, secrets=secrets)
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
    """The drift the results show, in name order; a result that says nothing usable is added
    to ``failed`` (which ends in name order)."""
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
    """``text`` with the resource's committed secret values masked."""
    values = secret_values(rtype.secrets, state.inputs, None, {})
    return SecretMask(values)(text) if values else text


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


def _record(
    tx: Transaction,
    principal: str,
    message: str,
    committed: State,
    drift: Mapping[str, Mapping[str, InputDrift]],
    restore: bool,
) -> tuple[list[Commit], dict[str, Change]]:
    """In ``tx``: the ``observe`` commits (one apply of kind ``observe``), then what to stage."""
    now = utc_now()
    changes = [observe_change(name, committed[name], drift[name]) for name in drift]
    text = message or ("refresh --restore" if restore else "refresh --accept")
    record = tx.applies.record(principal, text, now, changes, ApplyKind.OBSERVE)
    written = commit_changes(tx, record.id, principal, text, [CommitEntry(c, now) for c in changes])
    after = dict(committed)
    after.update((c.resource, c.after) for c in changes if c.after is not None)
    if restore:
        staged = _restoring(committed, after, drift)
    else:
        staged = stage_changes(after, propagate(after))
    tx.staged.replace(list(staged.values()))
    return written, staged


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
