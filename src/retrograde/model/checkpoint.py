"""Checkpoints: named, immutable tags on revisions (docs/design.md, "Checkpoints and rollback")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

from retrograde.errors import InvalidNameError

NAME_RULE = (
    "use letters, digits and _ . - : @ + (starting with a letter, digit or _),"
    " at most 200 characters, not only digits (those name revisions)"
)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,199}")


class CheckpointJSON(TypedDict):
    """One checkpoint in ``checkpoints --json``."""

    name: str
    rev: int
    description: str
    principal: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A name for revision ``rev``, with why (``description``), who and when."""

    name: str
    rev: int
    description: str
    principal: str
    timestamp: str

    def to_json(self) -> CheckpointJSON:
        return {
            "name": self.name,
            "rev": self.rev,
            "description": self.description,
            "principal": self.principal,
            "timestamp": self.timestamp,
        }


def check_checkpoint_name(name: str) -> str:
    """``name`` if it is a valid checkpoint name, else :class:`InvalidNameError`.

    A name of digits only is refused so that ``rollback 12`` always means
    revision 12.
    """
    if not _NAME.fullmatch(name) or name.isdigit():
        raise InvalidNameError("checkpoint", name, NAME_RULE)
    return name
