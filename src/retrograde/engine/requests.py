"""Building the JSON request a handler receives for one change."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from retrograde.errors import NotFoundError
from retrograde.model.apply import ActionRequest
from retrograde.model.change import Change
from retrograde.model.masking import secret_values
from retrograde.model.types import ResourceType, TypeKey

NO_HANDLER = "none"
"""Handler kind for an action the type does not define: it succeeds at once."""


def action_request(
    change: Change, types: Mapping[TypeKey, ResourceType], apply_id: int
) -> ActionRequest:
    """The request for ``change``: handler, target, working directory, timeout, stdin context,
    the secret values the handler side masks in what it reports and the names of the
    inputs that hold them.

    A removal runs the handler of the type the resource had (``before``).
    """
    rtype = _type_of(change, types)
    action = change.action.value
    spec = rtype.actions.get(action)
    after = change.after.inputs if change.after else None
    before = change.before.inputs if change.before else None
    secrets = _secret_names(change, types, rtype)
    return {
        "handler": spec.handler if spec else NO_HANDLER,
        "target": spec.target if spec else "",
        "cwd": rtype.base_dir,
        "timeout": spec.timeout if spec else None,
        "context": {
            "action": action,
            "resource": change.resource,
            "type": rtype.name,
            "inputs": dict(after) if after is not None else None,
            "previous": dict(before) if before is not None else None,
            "diff": {k: dict(v) for k, v in change.diff.items()},
            "apply_id": apply_id,
        },
        "secrets": secret_values(secrets, after, before, change.diff) if secrets else [],
        "queue": _queue(change, rtype),
        "queue_timeout": spec.queue_timeout if spec else None,
        "files": list(rtype.files),
        "secret_inputs": sorted(secrets),
    }


def action_queue(change: Change, types: Mapping[TypeKey, ResourceType]) -> str | None:
    """The Celery queue ``change``'s action is sent to; None for the default queue.

    The resource's ``queue`` tag, else its type's ``queue:``, else its
    ``route_by`` tag (the state after the change, or before it for a removal).
    """
    return _queue(change, _type_of(change, types))


def _queue(change: Change, rtype: ResourceType) -> str | None:
    side = change.after or change.before
    return rtype.queue_for(side.tags if side else {})


def _secret_names(
    change: Change, types: Mapping[TypeKey, ResourceType], rtype: ResourceType
) -> frozenset[str]:
    """The inputs secret in either side's type: a migration may change which inputs are secret,
    and an input secret on one side must not show on the other. ``rtype`` is the type that
    performs ``change`` (most changes keep their type: then it is the only one)."""
    names: frozenset[str] = frozenset()
    for side in (change.before, change.after):
        if side is None:
            continue
        if side.type == rtype.name and side.version == rtype.version:
            names |= rtype.secrets
            continue
        other = types.get((side.type, side.version))
        names |= other.secrets if other is not None else frozenset()
    return names


def revealed(
    changes: Mapping[str, Change],
    types: Mapping[TypeKey, ResourceType],
    reveal: Callable[[Change], Change],
) -> dict[str, Change]:
    """``changes`` with those whose action runs a handler in plaintext (``reveal``): only a
    handler is given secret values, so an action without one never needs the key."""
    opened: dict[str, Change] = {}
    for name, change in changes.items():
        runs = change.action.value in _type_of(change, types).actions
        opened[name] = reveal(change) if runs else change
    return opened


def check_types(changes: Iterable[Change], types: Mapping[TypeKey, ResourceType]) -> None:
    """Refuse (NotFoundError) a change whose type is not among ``types``, before anything runs."""
    for change in changes:
        _type_of(change, types)


def retry_policy(change: Change, types: Mapping[TypeKey, ResourceType]) -> tuple[int, float]:
    """``(retries, retry_delay)`` of the action ``change`` needs (none for an undefined action)."""
    spec = _type_of(change, types).actions.get(change.action.value)
    return (spec.retries, spec.retry_delay) if spec else (0, 0.0)


def _type_of(change: Change, types: Mapping[TypeKey, ResourceType]) -> ResourceType:
    """The type whose handlers perform ``change``: ``after``'s, or ``before``'s for a removal."""
    side = change.type_state
    rtype = types.get((side.type, side.version))
    if rtype is None:
        raise NotFoundError("resource type", f"{side.type} v{side.version}")
    return rtype
