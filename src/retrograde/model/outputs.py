"""A stack's outputs: named values read from committed state (``output``).

An output is written in the stack file as ``${resource.input}`` (the value
itself, of its type), as text with such references in it, or as a constant.
Its definition is kept in the store when the stack is staged, so ``output``
needs no stack file; its value is always taken from committed state, so it
never shows anything not yet applied. A secret var's value is never part of a
kept definition: its place is an :class:`OutputHidden` (an output holding one
is secret, and a secret output shows only ``***``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.secrets import MASK
from retrograde.model.state import State, parse_ref


@dataclass(frozen=True, slots=True)
class OutputRef:
    """``${resource.input}`` in an output."""

    resource: str
    input: str

    @property
    def text(self) -> str:
        return f"{self.resource}.{self.input}"


@dataclass(frozen=True, slots=True)
class OutputHidden:
    """Where a secret var's value stood in an output (the value is not kept)."""

    var: str


OutputPart = JSON | OutputRef | OutputHidden


@dataclass(frozen=True, slots=True)
class OutputDef:
    """One output: its parts (text and references; a single part is a whole value), and
    whether it is secret as written (it uses a secret input or var)."""

    name: str
    parts: tuple[OutputPart, ...]
    secret: bool = False

    def to_json(self) -> dict[str, JSON]:
        return {"parts": [_part_json(part) for part in self.parts], "secret": self.secret}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Raw]) -> OutputDef:
        parts = tuple(_part_from_json(part) for part in data["parts"])
        return cls(name, parts, bool(data.get("secret", False)))

    def value(self, state: State, secrets: Callable[[str], frozenset[str]]) -> tuple[JSON, bool]:
        """``(value, secret)`` against ``state``; the value is None while a resource it names
        is not committed. ``secrets(type)`` names a type's secret inputs."""
        secret = self.secret
        values: list[JSON] = []
        for part in self.parts:
            if isinstance(part, OutputHidden):
                values.append(MASK)
                secret = True
                continue
            if not isinstance(part, OutputRef):
                values.append(part)
                continue
            rs = state.get(part.resource)
            if rs is None or part.input not in rs.inputs:
                return None, secret
            secret = secret or part.input in secrets(rs.type)
            values.append(rs.inputs[part.input])
        if len(values) == 1:
            return values[0], secret
        return "".join(_text(value) for value in values), secret


def _part_json(part: OutputPart) -> JSON:
    if isinstance(part, OutputRef):
        return {"ref": part.text}
    if isinstance(part, OutputHidden):
        return {"hidden": part.var}
    return {"text": part}


def _part_from_json(part: Mapping[str, Raw]) -> OutputPart:
    if "ref" in part:
        return OutputRef(*parse_ref(part["ref"]))
    if "hidden" in part:
        return OutputHidden(str(part["hidden"]))
    value: JSON = part["text"]
    return value


def _text(value: JSON) -> str:
    """A value as it stands inside an output's text (JSON for anything but a string)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class OutputsView(TypedDict):
    """``output --json`` (every output; ``output NAME --json`` prints the value alone)."""

    outputs: dict[str, JSON]


def outputs_view(
    definitions: Sequence[OutputDef], state: State, secrets: Callable[[str], frozenset[str]]
) -> OutputsView:
    """Every output's value, secrets as ``***``."""
    values: dict[str, JSON] = {}
    for definition in definitions:
        value, secret = definition.value(state, secrets)
        values[definition.name] = MASK if secret and value is not None else value
    return {"outputs": values}
