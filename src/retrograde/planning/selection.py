"""Which resources a verb works on: named ones, and ones with given tags. Pure.

One meaning for every verb that takes ``--resource R`` and ``--tag KEY=VALUE``
(``rollback`` today): a resource is selected when it is named, or when its
tags match. Tag options combine the way operators read them: different keys
must all match (``--tag node=n1 --tag role=db``: the databases on n1), and one
key repeated matches any of its values (``--tag node=n1 --tag node=n2``: what
is on n1 or n2). A later option never replaces an earlier one. An empty
selection (nothing named, no tags) selects every resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from retrograde.errors import NotFoundError
from retrograde.model.state import ResourceState

TagPairs = Mapping[str, str] | Iterable[tuple[str, str]]
"""Tags as ``{KEY: VALUE}`` (one value per key) or ``(KEY, VALUE)`` pairs (keys may repeat)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Resources named in ``resources``, plus those whose tags match ``tags``.

    ``tags`` maps each key to the values it accepts: a resource matches when,
    for every key, its tag of that key has one of the key's values.
    """

    resources: frozenset[str] = frozenset()
    tags: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Iterable[str] = (), tags: TagPairs = ()) -> Selection:
        """The selection of ``resources`` and ``tags``; repeated keys gather their values."""
        pairs = tags.items() if isinstance(tags, Mapping) else tags
        accepted: dict[str, set[str]] = {}
        for key, value in pairs:
            accepted.setdefault(key, set()).add(value)
        return cls(
            frozenset(resources), {key: frozenset(values) for key, values in accepted.items()}
        )

    @property
    def everything(self) -> bool:
        """Whether nothing narrows it: no resource named and no tag given."""
        return not self.resources and not self.tags

    def matches(self, name: str, tags: Mapping[str, str]) -> bool:
        """Whether the resource ``name`` with ``tags`` is selected."""
        if self.everything or name in self.resources:
            return True
        return bool(self.tags) and all(tags.get(key) in ok for key, ok in self.tags.items())

    def pick(self, *states: Mapping[str, ResourceState]) -> set[str]:
        """The selected resources among ``states`` (e.g. state now and state then).

        A named resource must be in one of them (:class:`NotFoundError`), so a
        typo never selects nothing in silence.
        """
        for name in sorted(self.resources):
            if not any(name in state for state in states):
                raise NotFoundError("resource", name)
        return {
            name
            for state in states
            for name, resource in state.items()
            if self.matches(name, resource.tags)
        }


def parse_tag(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as ``(KEY, VALUE)``; ``ValueError`` without ``=`` or with an empty key.

    The value may be empty (``role=``) and may hold ``=`` itself: only the
    first ``=`` separates.
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"{text!r} is not KEY=VALUE")
    return key, value
