"""Secret values the history keeps in clear: what ``verify`` reports besides problems.

An input declared ``secret: true`` in a later type definition than the
commits that set it leaves those values in clear in the commits (history is
never rewritten: their hashes, the chain entries after them, signatures and
witnessed heads stay valid), while committed state, snapshots and the staged
log are sealed. A type definition chained by an earlier version may hold a
secret input's default in clear. Neither is a problem (the chain is whole),
but whoever holds a copy of the store or of an export can read them: this
walk finds where, naming the type input and the revisions (or chain
entries), never the value. Pure: it is fed the commits and entries ``verify``
reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from retrograde.model.chain import ChainEntry, EntryKind
from retrograde.model.commit import CommitBody
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.reports import ClearSecret
from retrograde.model.sealed import is_sealed
from retrograde.model.types import ResourceType, TypeKey


@dataclass
class ClearHistory:
    """Where the commits and chain entries fed to it hold secret values in clear; an input is
    secret when any version of its type in ``secrets`` (by type name) says so."""

    secrets: Mapping[str, frozenset[str]]
    revs: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    entries: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def commit(self, body: CommitBody) -> None:
        """Note where the commit ``body`` (the hashed fields) holds a secret in clear."""
        type_name = body["type"]
        secret = self.secrets.get(type_name)
        if not secret:
            return
        diff = body["diff"]
        for name in secret & diff.keys():
            entry = diff[name]
            if _clear(entry.get("from")) or _clear(entry.get("to")):
                self.revs.setdefault((type_name, name), []).append(body["rev"])

    def entry(self, entry: ChainEntry) -> None:
        inputs = _type_inputs(entry)
        type_name = str(entry.data.get("name"))
        secret = self.secrets.get(type_name, frozenset()) if inputs else frozenset()
        for name, spec in inputs:
            if name in secret and _clear(spec.get("default")):
                self.entries.setdefault((type_name, name), []).append(entry.seq)

    def sealed_since(self, type_name: str, input: str, logged: JSON, stored: JSON) -> bool:
        """Whether ``stored`` may be ``logged`` sealed since: a value of a secret input that
        the log holds in clear, sealed (which value a ciphertext holds is not known without
        the key; one moved from another input fails when it is opened)."""
        return (
            input in self.secrets.get(type_name, frozenset())
            and _clear(logged)
            and is_sealed(stored)
        )

    def found(self) -> tuple[ClearSecret, ...]:
        keys = sorted(self.revs.keys() | self.entries.keys())
        return tuple(
            ClearSecret(
                type_name,
                name,
                tuple(self.revs.get((type_name, name), ())),
                tuple(self.entries.get((type_name, name), ())),
            )
            for type_name, name in keys
        )


def secret_inputs(
    types: Mapping[TypeKey, ResourceType] | None, entries: Iterable[ChainEntry]
) -> dict[str, frozenset[str]]:
    """By type name, the inputs secret in any version of it: from the store's definitions
    ``types``, or where they cannot be read (None: an edited row, which ``verify`` reports
    against its chain entry) from the definitions the chain holds."""
    found: dict[str, frozenset[str]] = {}
    if types is not None:
        for (name, _version), rtype in types.items():
            found[name] = found.get(name, frozenset()) | rtype.secrets
        return found
    for entry in entries:
        secret = frozenset(name for name, spec in _type_inputs(entry) if spec.get("secret"))
        type_name = str(entry.data["name"]) if secret else ""
        found[type_name] = found.get(type_name, frozenset()) | secret
    found.pop("", None)
    return found


def _type_inputs(entry: ChainEntry) -> list[tuple[str, Mapping[str, Raw]]]:
    """The input specs of a type definition entry as written (nothing for other entries or
    a definition that cannot be read)."""
    if entry.kind != EntryKind.TYPE or not isinstance(entry.data.get("name"), str):
        return []
    inputs = entry.data.get("inputs")
    if not isinstance(inputs, dict):
        return []
    return [(name, spec) for name, spec in inputs.items() if isinstance(spec, dict)]


def _clear(value: JSON) -> bool:
    return value is not None and not is_sealed(value)
