"""The adopt verb: record resources that already exist in the world as committed.

Bringing retrograde to a running system should not mean running every
handler once: ``adopt FILE R...`` writes one ``adopt`` commit per named
resource (an apply of kind ``adopt``), with the values of the stack file (after
values flowed through connections) or, with ``read``, what each resource's
``read`` action reports over them. No ``run`` happens. Afterwards ``stage FILE``
finds those resources already committed as the file has them: nothing to do.

All or nothing: a name the file does not hold, a resource already committed,
a connection to a resource that is neither committed nor adopted with it, or
a failed read refuses the whole adopt, before anything is written. Like
``mv``, it holds the store lock and refuses while changes are staged.

Secret values, the file's and those a read reports, are sealed before they
are committed (:mod:`retrograde.storage.sealing`), as staging seals them; a
read is given the file's values in plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.stack_staging import resealing_box
from retrograde.commands.stackfiles import StackVars, read_verb_stack
from retrograde.commands.validating import check_stack, raise_problems
from retrograde.engine.committing import commit_changes
from retrograde.engine.reading import read_request, run_reads
from retrograde.errors import NotFoundError, StateError
from retrograde.executors.registry import DEFAULT_EXECUTOR, executor_for
from retrograde.executors.wire_secrets import WireSecrets
from retrograde.model.apply import ApplyKind
from retrograde.model.change import ActionName, Change, input_diff
from retrograde.model.commit import Commit
from retrograde.model.jsonvalue import same_json
from retrograde.model.masking import SecretMask, secret_values
from retrograde.model.state import ResourceState, State, producers
from retrograde.model.types import ResourceType
from retrograde.planning.drift import READ_ACTION, ReadProblem, reported_inputs
from retrograde.planning.propagation import propagate
from retrograde.planning.stackfile import Stack
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sealing import Opener, Sealer, sealed_types, secret_names
from retrograde.storage.sql.reencoding import seal_clear_state


def adopt(
    ctx: Context,
    path: Path,
    resources: Sequence[str],
    *,
    read: bool = False,
    message: str = "",
    executor: str = DEFAULT_EXECUTOR,
    jobs: int = 4,
    allow_include: Sequence[Path] = (),
    stack_vars: StackVars | None = None,
) -> list[Commit]:
    """Record ``resources`` of the stack file at ``path`` as committed; returns the commits.

    With ``read``, each resource's inputs are the file's values with what its
    ``read`` action reports over them (its type must declare one).
    """
    if not resources:
        raise StateError("adopt needs the names of the resources to adopt")
    stack = read_verb_stack(ctx.cwd, path, allow_include=allow_include, stack_vars=stack_vars)
    raise_problems(check_stack(stack))
    with exclusive(ctx, "adopt"):
        with ctx.store.read() as tx:
            staged = tx.staged.count()
            committed = tx.state.load()
            known = tx.state.types()
        if staged:
            raise StateError(
                f"cannot adopt: {staged} change(s) are staged; apply or discard them first"
            )
        wanted = _adopted(stack, committed, list(dict.fromkeys(resources)))
        if read:
            wanted = _read(ctx, stack.types, wanted, executor, jobs)
        declared = {**known, **{(t.name, t.version): t for t in stack.types.values()}}
        sealer = Sealer(Opener(ctx.keys.box), ctx.keys.sealing_box, secret_names(declared))
        changes = [sealer.change(_adopt_change(name, state)) for name, state in wanted.items()]
        text = message or f"adopt from {path}"
        types = sealed_types(stack.types.values(), known, ctx.keys.sealing_box)
        reseal = resealing_box(ctx, known, declared, committed)
        with ctx.store.write() as tx:
            tx.state.save_types(types)
            if reseal is not None:
                seal_clear_state(tx, lambda: reseal)
            now = utc_now()
            record = tx.applies.record(ctx.principal, text, now, changes, ApplyKind.ADOPT)
            entries = [CommitEntry(change, now) for change in changes]
            return commit_changes(tx, record.id, ctx.principal, text, entries)


def _adopted(stack: Stack, committed: State, names: list[str]) -> dict[str, ResourceState]:
    """The desired state of ``names`` (values propagated), checked as adoptable."""
    for name in names:
        if name not in stack.resources:
            raise NotFoundError(f"resource in {stack.source}", name)
        if name in committed:
            raise StateError(f"cannot adopt {name!r}: it is committed already")
    desired = propagate(stack.resources)
    chosen = set(names)
    for name in names:
        missing = sorted(p for p in producers(desired[name].connections) if p not in committed)
        missing = [p for p in missing if p not in chosen]
        if missing:
            raise StateError(
                f"cannot adopt {name!r}: it is connected to {missing[0]!r}, which is neither "
                "committed nor adopted with it"
            )
    return {name: desired[name] for name in sorted(names)}


def _read(
    ctx: Context,
    types: Mapping[str, ResourceType],
    wanted: dict[str, ResourceState],
    executor: str,
    jobs: int,
) -> dict[str, ResourceState]:
    """``wanted`` with what each resource's read reports (in plaintext, as ``wanted`` is);
    StateError naming the first that has no read action or whose read failed. The executor
    is built as ``apply`` builds its own: the store's scope, secrets sealed on the wire."""
    requests = {}
    for name, state in wanted.items():
        rtype = types[state.type]
        if READ_ACTION not in rtype.actions:
            raise StateError(f"cannot adopt {name!r} with --read: type {rtype.name!r} has no read")
        requests[name] = read_request(name, state, rtype)
    runner = executor_for(executor, jobs, scope=ctx.store.url, secrets=WireSecrets(ctx.keys))
    try:
        results = run_reads(runner, requests)
    finally:
        runner.shutdown()
    found: dict[str, ResourceState] = {}
    for name, state in wanted.items():
        rtype = types[state.type]
        try:
            reported = reported_inputs(results[name], rtype)
        except ReadProblem as problem:
            values = secret_values(rtype.secrets, state.inputs, None, {})
            raise StateError(f"cannot adopt {name!r}: {SecretMask(values)(str(problem))}") from None
        connected = [key for key in reported if key in state.connections]
        if any(not same_json(reported[key], state.inputs.get(key)) for key in connected):
            raise StateError(
                f"cannot adopt {name!r} with --read: it reports connected input(s) "
                f"{', '.join(connected)} unlike their producers"
            )
        inputs = {**state.inputs, **reported}
        found[name] = ResourceState(
            state.type, state.version, inputs, state.connections, state.tags
        )
    return found


def _adopt_change(name: str, state: ResourceState) -> Change:
    return Change(name, ActionName.ADOPT, None, state, input_diff(None, state.inputs))
