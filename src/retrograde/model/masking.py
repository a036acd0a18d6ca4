"""Masking an action's secret values in the text its handler produces.

A handler can print a secret it was given (echo it, ``cat`` its stdin JSON,
put it in an exception message), and that text becomes a failure stored on
the apply and shown by every verb. So each action carries the texts of its
own secret values (:func:`secret_values`: current, previous, both sides of the
diff), and the handler side compiles them once into a :class:`SecretMask`
that replaces every occurrence of each value, in every form a handler is
likely to print it (:func:`written_forms`), with ``***``. Masking happens
before any text is capped, so a value cut in two by the cap cannot leave its
first part behind.

Values are matched as text, longest form first: a secret of fewer than
three characters is masked too, and so is every occurrence of
it in unrelated text (a secret ``42`` masks ``4200``'s first two digits).
Output that transforms a value (base64, splitting, another encoding) is not
recognised.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping

from retrograde.model.change import Diff
from retrograde.model.jsonvalue import JSON
from retrograde.model.secrets import MASK

_DOUBLE_QUOTED = re.compile(r'([\\"$`])')
_HEREDOC = re.compile(r"([\\$`])")


def secret_values(
    secrets: frozenset[str],
    inputs: Mapping[str, JSON] | None,
    previous: Mapping[str, JSON] | None,
    diff: Diff,
) -> list[str]:
    """The texts of an action's secret inputs (named by ``secrets``), sorted and unique.

    Taken from its inputs, its previous inputs and both sides of its diff. A
    string is its own text; any other value is its JSON text, and the strings
    and numbers inside a list or object count too. ``null`` and empty strings hold nothing.
    """
    found: set[str] = set()
    for values in (inputs or {}, previous or {}):
        for name in secrets & values.keys():
            found.update(_texts(values[name]))
    for name in secrets & diff.keys():
        for value in diff[name].values():
            found.update(_texts(value))
    found.discard("")
    return sorted(found)


def _texts(value: JSON) -> Iterator[str]:
    """The texts of one secret value: itself, or its JSON text and its string and number leaves."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
        return
    yield json.dumps(value)
    yield json.dumps(value, ensure_ascii=False)
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        if not isinstance(child, bool):
            yield from _texts(child)


def written_forms(value: str) -> set[str]:
    """``value`` as a handler may print it: as is, JSON-escaped, ``repr``-escaped, shell-quoted.

    The shell forms are those the ``shell`` handler pastes into a command (one
    word, inside ``'…'``, inside ``"…"``, in a here-document), which show up
    wherever the command line does. The empty string is never a form.
    """
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        shlex.quote(value),
        value.replace("'", "'\\''"),
        _DOUBLE_QUOTED.sub(r"\\\1", value),
        _HEREDOC.sub(r"\\\1", value),
    }
    forms.discard("")
    return forms


class SecretMask:
    """One compiled pattern for the secret values of one action; immutable, thread safe.

    Built once per action on the handler side, from the plain list of values
    the action's request carries, so that the list is all that crosses an
    executor boundary.
    """

    __slots__ = ("_longest", "_pattern")

    def __init__(self, values: Iterable[str]) -> None:
        forms = {form for value in values if value for form in written_forms(value)}
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._longest = len(ordered[0]) if ordered else 0

    def __call__(self, text: str) -> str:
        """``text`` with every occurrence of a secret form replaced by ``***``."""
        return self._pattern.sub(MASK, text) if self._pattern else text

    def tail(self, text: str, limit: int) -> str:
        """The last ``limit`` characters of ``text`` masked: as if masked whole, then cut.

        Only the end of a long text is masked (see :meth:`_window`), so a
        handler that wrote gigabytes costs no more than one that wrote a page.
        """
        if limit <= 0:
            return ""
        return self(text[-self._window(limit) :])[-limit:]

    def head(self, text: str, limit: int) -> str:
        """The first ``limit`` characters of ``text`` masked: as if masked whole, then cut."""
        if limit <= 0:
            return ""
        return self(text[: self._window(limit)])[:limit]

    def _window(self, limit: int) -> int:
        """How much of a text's end (or start) to mask for ``limit`` characters of it.

        A form cut where the window starts reaches at most ``longest - 1``
        characters into it, and the masked window must still have ``limit``
        characters after those, although every masked form of ``longest``
        characters shrinks to three.
        """
        longest = self._longest
        return (limit + 2 * longest) * max(1, -(-longest // len(MASK)))


NO_SECRETS = SecretMask(())
"""The mask of an action without secret values: text passes unchanged."""
