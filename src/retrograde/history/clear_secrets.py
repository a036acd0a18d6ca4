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

from collections.abc import Mapping
from dataclasses import dataclass, field

from retrograde.model.chain import ChainEntry, EntryKind
from retrograde.model.commit import Commit
from retrograde.model.jsonvalue import JSON
from retrograde.model.reports import ClearSecret
from retrograde.model.sealed import is_sealed
from retrograde.model.types import ResourceType, TypeKey


@dataclass
class ClearHistory:
    """Where the commits and chain entries fed to it hold secret values in clear; an input is
    secret when any version of its type in ``types`` (the store's) says so."""

    types: Mapping[TypeKey, ResourceType]
    revs: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    entries: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _secrets: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (name, _version), rtype in self.types.items():
            self._secrets[name] = self._secrets.get(name, frozenset()) | rtype.secrets

    def commit(self, commit: Commit) -> None:
        secret = self._secrets.get(commit.type)
        if not secret:
            return
        for name in secret & commit.diff.keys():
            entry = commit.diff[name]
            if _clear(entry.get("from")) or _clear(entry.get("to")):
                self.revs.setdefault((commit.type, name), []).append(commit.rev)

    def entry(self, entry: ChainEntry) -> None:
        if entry.kind != EntryKind.TYPE:
            return
        try:
            rtype = ResourceType.from_json(entry.data)
        except (KeyError, TypeError, ValueError):
            return  # an unreadable definition is the record check's to report
        secret = self._secrets.get(rtype.name, frozenset())
        for name, spec in rtype.inputs.items():
            if name in secret and spec.has_default and _clear(spec.default):
                self.entries.setdefault((rtype.name, name), []).append(entry.seq)

    def sealed_since(self, type_name: str, input: str, logged: JSON, stored: JSON) -> bool:
        """Whether ``stored`` may be ``logged`` sealed since: a value of a secret input that
        the log holds in clear, sealed (which value a ciphertext holds is not known without
        the key; one moved from another input fails when it is opened)."""
        return (
            input in self._secrets.get(type_name, frozenset())
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


def _clear(value: JSON) -> bool:
    return value is not None and not is_sealed(value)
