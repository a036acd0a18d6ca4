"""Opening and sealing the secret values of states, changes and commits.

Planning compares values, so it works on plaintext: a verb that plans
(``stage``, ``revert``, ``rollback``) opens what it reads with an
:class:`Opener`, plans, and seals what it will store with a :class:`Sealer`
built on that opener. The sealer reuses the very ciphertext a value was read
with whenever the plaintext is the same for the same resource input, so a
value that did not change keeps its ciphertext (no spurious diff, no new
hash), and only new values are encrypted, once, when staged. From there the
ciphertext travels unchanged through the commit, committed state, snapshots
and exports.

A rename is the one change that seals a value again without a new
plaintext: the associated data names the resource, so :func:`resealed_move`
seals each sealed input of the moved resource under its new name and records
the pair as the move's diff (``from`` bound to the old name, ``to`` to the
new), which replay applies like any diff. In plaintext a move changes nothing
(:meth:`Opener.commit` gives it an empty diff).

Sealed values are recognised by their form (:mod:`retrograde.model.sealed`),
so opening needs no type definitions; sealing seals exactly the inputs a
resource's type declares secret.

A type definition is stored with the default of each secret input sealed
too (:func:`sealed_types`, bound to the type and input names), reusing the
ciphertext the stored definitions have for the same plaintext, so that
restaging an unchanged type changes no stored byte and makes no chain entry.
A resource that takes the default was given its plaintext when the stack file
was read, and seals it as its own value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from retrograde.model.change import ActionName, Change, Diff, reverse_diff
from retrograde.model.commit import Commit
from retrograde.model.jsonvalue import JSON, canonical_bytes
from retrograde.model.sealed import is_sealed
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.crypto import SecretBox

BoxOf = Callable[[], SecretBox]
"""Where a box comes from when one is first needed (a :class:`~retrograde.storage.keys.Keyring`
method): stores without secrets never look for a key."""

SecretNames = Callable[[str, int], frozenset[str]]
"""A type's secret input names, by type name and version."""

_Known = dict[tuple[str, str, bytes], JSON]


class Opener:
    """Opens sealed values, remembering each ciphertext by resource, input and plaintext."""

    def __init__(self, box: BoxOf) -> None:
        self._box_of = box
        self._box: SecretBox | None = None
        self.known: _Known = {}

    def value(self, resource: str, name: str, value: JSON) -> JSON:
        """The plaintext of ``value`` (itself unless sealed)."""
        if not is_sealed(value):
            return value
        if self._box is None:
            self._box = self._box_of()
        plain = self._box.open(resource, name, value)
        self.known.setdefault((resource, name, canonical_bytes(plain)), value)
        return plain

    def resealed(self, old: str, new: str, name: str, value: JSON) -> JSON:
        """``value``, sealed for ``old.name``, sealed for ``new.name`` instead (the ciphertext
        ``new.name`` was read with for that plaintext, if any, so a rename back restores it)."""
        if not is_sealed(value):
            return value
        plain = self.value(old, name, value)
        key = (new, name, canonical_bytes(plain))
        found = self.known.get(key)
        if found is None:
            assert self._box is not None  # opening ``value`` made it
            found = self.known[key] = self._box.seal(new, name, plain)
        return found

    def inputs(self, resource: str, inputs: Mapping[str, JSON]) -> dict[str, JSON]:
        return {name: self.value(resource, name, value) for name, value in inputs.items()}

    def state(self, resource: str, state: ResourceState | None) -> ResourceState | None:
        if state is None or not any(map(is_sealed, state.inputs.values())):
            return state
        return dataclasses.replace(state, inputs=self.inputs(resource, state.inputs))

    def states(self, states: Mapping[str, ResourceState]) -> dict[str, ResourceState]:
        """Committed state (or a past one) in plaintext."""
        opened = {name: self.state(name, state) for name, state in states.items()}
        return {name: state for name, state in opened.items() if state is not None}

    def diff(self, resource: str, diff: Diff) -> Diff:
        return {
            name: {
                side: self.value(resource, name, v) if side in ("from", "to") else v
                for side, v in entry.items()
            }
            for name, entry in diff.items()
        }

    def change(self, change: Change) -> Change:
        """``change`` in plaintext (what a handler is given); itself when nothing in it is
        sealed (most changes: no copy made)."""
        if not _holds_sealed(change):
            return change
        return dataclasses.replace(
            change,
            before=self.state(change.resource, change.before),
            after=self.state(change.resource, change.after),
            diff=self.diff(change.resource, change.diff),
        )

    def commit(self, commit: Commit) -> Commit:
        """``commit`` with its diff (and reverse) in plaintext, for planning an undo (a move's
        diff, re-sealed values only, is empty in plaintext)."""
        if commit.action is ActionName.MOVE and commit.moved_from is not None:
            self._move_diff(commit.moved_from, commit.resource, commit.diff)
            return dataclasses.replace(commit, diff={}, reverse={})
        diff = self.diff(commit.resource, commit.diff)
        return dataclasses.replace(commit, diff=diff, reverse=reverse_diff(diff))

    def _move_diff(self, old: str, new: str, diff: Diff) -> None:
        """Open a move's re-sealed values, each side under its name (so both are known)."""
        for name, entry in diff.items():
            self.value(old, name, entry.get("from"))
            self.value(new, name, entry.get("to"))


def _holds_sealed(change: Change) -> bool:
    """Whether any input of ``change`` (either side, or its diff) is sealed."""
    values: list[JSON] = []
    for side in (change.before, change.after):
        if side is not None:
            values.extend(side.inputs.values())
    for entry in change.diff.values():
        values.extend(entry.values())
    # Only a dict can be sealed: most inputs are not, and cost one type check each.
    return any(is_sealed(value) for value in values if type(value) is dict)


class Sealer:
    """Seals the secret inputs of changes, reusing what ``opener`` read where nothing changed."""

    def __init__(self, opener: Opener, box: BoxOf, secrets: SecretNames) -> None:
        self._known = opener.known
        self._box_of = box
        self._box: SecretBox | None = None
        self._secrets = secrets

    def value(self, resource: str, name: str, value: JSON) -> JSON:
        """``value`` sealed for ``resource.name`` (``null`` stays ``null``: it holds nothing)."""
        if value is None:
            return None
        key = (resource, name, canonical_bytes(value))
        found = self._known.get(key)
        if found is None:
            if self._box is None:
                self._box = self._box_of()
            found = self._known[key] = self._box.seal(resource, name, value)
        return found

    def change(self, change: Change) -> Change:
        """``change`` with every value of its secret inputs sealed (before, after, diff)."""
        names = frozenset().union(
            *(self._secrets(s.type, s.version) for s in (change.before, change.after) if s)
        )
        if not names:
            return change
        resource = change.resource
        return dataclasses.replace(
            change,
            before=self._state(resource, change.before, names),
            after=self._state(resource, change.after, names),
            diff={
                name: {
                    side: self.value(resource, name, v)
                    if name in names and side in ("from", "to")
                    else v
                    for side, v in entry.items()
                }
                for name, entry in change.diff.items()
            },
        )

    def _state(
        self, resource: str, state: ResourceState | None, names: frozenset[str]
    ) -> ResourceState | None:
        if state is None:
            return None
        inputs = {
            name: self.value(resource, name, v) if name in names else v
            for name, v in state.inputs.items()
        }
        return dataclasses.replace(state, inputs=inputs)


def resealed_move(change: Change, opener: Opener) -> Change:
    """``change``, a ``move`` of stored state, with each sealed input of the resource sealed
    again under the new name (see the module docstring); any other change as it is.

    ``after`` holds the new ciphertexts and the diff one ``{from: old ciphertext, to: new
    ciphertext}`` entry per input, so replaying the diff on the former name's inputs gives
    the stored state. Opening needs the store's key: without it, the opener's
    :class:`~retrograde.errors.SecretKeyError` (naming the key file) before anything is
    written.
    """
    old, after = change.moved_from, change.after
    if change.action is not ActionName.MOVE or old is None or after is None:
        return change
    diff: dict[str, dict[str, JSON]] = {}
    inputs = dict(after.inputs)
    for name, value in after.inputs.items():
        if is_sealed(value):
            inputs[name] = opener.resealed(old, change.resource, name, value)
            diff[name] = {"from": value, "to": inputs[name]}
    if not diff:
        return change
    return dataclasses.replace(
        change, after=dataclasses.replace(after, inputs=inputs), diff={**change.diff, **diff}
    )


def secret_names(types: Mapping[TypeKey, ResourceType]) -> SecretNames:
    """:data:`SecretNames` from type definitions: an input is secret if it is secret in any
    version of its type (a migration may change which are; sealing too much hides nothing)."""
    by_name: dict[str, frozenset[str]] = {}
    for (name, _version), rtype in types.items():
        by_name[name] = by_name.get(name, frozenset()) | rtype.secrets

    def names(type_name: str, _version: int) -> frozenset[str]:
        return by_name.get(type_name, frozenset())

    return names


def secret_defaults(rtype: ResourceType) -> dict[str, JSON]:
    """The defaults of ``rtype``'s secret inputs that hold something (not ``null``)."""
    return {
        name: spec.default
        for name, spec in rtype.inputs.items()
        if spec.secret and spec.has_default and spec.default is not None
    }


def sealed_types(
    types: Iterable[ResourceType], stored: Mapping[TypeKey, ResourceType], box: BoxOf
) -> list[ResourceType]:
    """``types`` as the store keeps them: each secret input's default sealed (see the module
    docstring), with the ciphertext a definition in ``stored`` has for the same plaintext.
    ``box`` is asked for only when a type has a secret default in clear."""
    known: _Known = {}
    learnt: set[str] = set()
    made: list[ResourceType] = []
    for rtype in types:
        clear = {n: v for n, v in secret_defaults(rtype).items() if not is_sealed(v)}
        if not clear:
            made.append(rtype)
            continue
        secrets = box()
        if rtype.name not in learnt:  # the ciphertexts the stored versions of the type hold
            learnt.add(rtype.name)
            for (name, _version), old in stored.items():
                for input, value in secret_defaults(old).items() if name == rtype.name else ():
                    if is_sealed(value):
                        plain = canonical_bytes(secrets.open_default(name, input, value))
                        known.setdefault((name, input, plain), value)
        sealed: dict[str, JSON] = {}
        for input, value in clear.items():
            key = (rtype.name, input, canonical_bytes(value))
            if key not in known:
                known[key] = secrets.seal_default(rtype.name, input, value)
            sealed[input] = known[key]
        made.append(_with_defaults(rtype, sealed))
    return made


def opened_types(types: Mapping[TypeKey, ResourceType], box: BoxOf) -> dict[TypeKey, ResourceType]:
    """``types`` with their sealed secret defaults in plaintext (``box`` asked for only then)."""
    opened: dict[TypeKey, ResourceType] = {}
    for key, rtype in types.items():
        sealed = {n: v for n, v in secret_defaults(rtype).items() if is_sealed(v)}
        if sealed:
            secrets = box()
            plain = {n: secrets.open_default(rtype.name, n, v) for n, v in sealed.items()}
            rtype = _with_defaults(rtype, plain)
        opened[key] = rtype
    return opened


def _with_defaults(rtype: ResourceType, defaults: Mapping[str, JSON]) -> ResourceType:
    inputs = {
        name: dataclasses.replace(spec, default=defaults[name]) if name in defaults else spec
        for name, spec in rtype.inputs.items()
    }
    return dataclasses.replace(rtype, inputs=inputs)
