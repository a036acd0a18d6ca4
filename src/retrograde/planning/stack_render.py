"""Committed state written back as a stack file (``state --stack``).

After a revert or rollback the stack file the user keeps differs from
committed state; this gives them committed state in the same format, to
follow in their source: the types the resources use, each resource with its
type, tags and inputs, connected inputs written as ``${producer.input}`` (also
inside lists), literal strings with ``${`` escaped as ``$${``. Staging the
result over the same committed state stages nothing.

Secret values are never printed: a secret input's default in its type and a
resource's secret value are written as :data:`SECRET_PLACEHOLDER` (a value
equal to the default is left out, so the default fills it in again), and the
file says so at the top: those are to be filled in before staging, and
``stage`` refuses the placeholder (and ``***``) for a secret input, so a
printed stack staged as is can never overwrite a secret. A connection is not
a value: a secret input connected to a producer is written ``${producer.input}``
like any other (list elements too; only its literal elements are hidden).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from retrograde.errors import NotFoundError
from retrograde.model.jsonvalue import JSON, same_json
from retrograde.model.sealed import is_sealed
from retrograde.model.secrets import SECRET_PLACEHOLDER
from retrograde.model.state import ResourceState, State
from retrograde.model.types import InputSpec, ResourceType, TypeKey

LINE_WIDTH = 1_000_000
"""Long enough that YAML never folds a command template over two lines."""

SECRET_NOTE = (
    f"# Secret values (defaults and inputs) are written as {SECRET_PLACEHOLDER!r}:\n"
    "# put the real values in before staging this file (stage refuses it).\n"
)


def stack_text(resources: State, types: Mapping[TypeKey, ResourceType], *, rev: int) -> str:
    """``resources`` (committed state as of ``rev``) as the text of a stack file."""
    chosen = used_types(resources, types)
    masked: list[str] = []
    document = {
        "types": {name: type_document(rtype, masked) for name, rtype in sorted(chosen.items())},
        "resources": {
            name: resource_document(name, rs, chosen[rs.type], masked)
            for name, rs in sorted(resources.items())
        },
    }
    header = f"# Committed state at rev {rev} (retrograde state --stack).\n"
    note = SECRET_NOTE if masked else ""
    body = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=LINE_WIDTH
    )
    return header + note + body


def used_types(resources: State, types: Mapping[TypeKey, ResourceType]) -> dict[str, ResourceType]:
    """By name, the newest version of each type the resources use (a stack has one per name)."""
    chosen: dict[str, ResourceType] = {}
    for rs in resources.values():
        rtype = types.get((rs.type, rs.version))
        if rtype is None:
            raise NotFoundError("resource type", f"{rs.type} v{rs.version}")
        if rs.type not in chosen or chosen[rs.type].version < rtype.version:
            chosen[rs.type] = rtype
    return chosen


def type_document(rtype: ResourceType, masked: list[str]) -> dict[str, Any]:
    """A type as the stack file writes it (its name is the key, its directory the file's).

    A secret input's default is the placeholder; appends to ``masked`` what it hid.
    """
    inputs = {name: spec.to_json() for name, spec in rtype.inputs.items()}
    for name, spec in rtype.inputs.items():
        if spec.secret and spec.has_default and spec.default is not None:
            inputs[name]["default"] = SECRET_PLACEHOLDER
            masked.append(f"types.{rtype.name}.{name}")
    document: dict[str, Any] = {
        "version": rtype.version,
        "inputs": inputs,
        "actions": {name: spec.to_json() for name, spec in rtype.actions.items()},
    }
    if rtype.migrations:
        document["migrations"] = [dict(step) for step in rtype.migrations]
    return document


def resource_document(
    name: str, rs: ResourceState, rtype: ResourceType, masked: list[str]
) -> dict[str, Any]:
    """One resource: type, tags (if any) and inputs; appends to ``masked`` what it hid."""
    inputs: dict[str, JSON] = {}
    for input_name, value in rs.inputs.items():
        spec = rtype.inputs.get(input_name)
        slot = rs.connections.get(input_name)
        if spec is not None and spec.secret:
            if slot is None and _is_default(spec, value):
                continue
            if not isinstance(slot, str):
                masked.append(f"{name}.{input_name}")
            inputs[input_name] = secret_text(value, slot)
            continue
        inputs[input_name] = input_text(value, slot)
    document: dict[str, Any] = {"type": rs.type}
    if rs.tags:
        document["tags"] = dict(rs.tags)
    document["inputs"] = inputs
    return document


def input_text(value: JSON, slot: str | list[str | None] | None) -> JSON:
    """An input as written in a stack file: a connection, a list with some, or a literal."""
    if isinstance(slot, str):
        return f"${{{slot}}}"
    if slot is not None and isinstance(value, list):
        return [
            f"${{{ref}}}" if ref is not None else escaped(item)
            for item, ref in zip(value, slot, strict=False)
        ]
    return escaped(value)


def secret_text(value: JSON, slot: str | list[str | None] | None) -> JSON:
    """A secret input: its connections as written, every literal part as the placeholder."""
    if isinstance(slot, str):
        return f"${{{slot}}}"
    if slot is not None and (isinstance(value, list) or is_sealed(value)):
        return [f"${{{ref}}}" if ref is not None else SECRET_PLACEHOLDER for ref in slot]
    return SECRET_PLACEHOLDER


def escaped(value: JSON) -> JSON:
    """``value`` with every ``${`` in its strings written ``$${`` (a literal, not a connection)."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, list):
        return [escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    return value


def _is_default(spec: InputSpec, value: JSON) -> bool:
    return spec.has_default and same_json(spec.default, value)
