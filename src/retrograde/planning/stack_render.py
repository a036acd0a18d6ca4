"""Committed state written back as a stack file (``state --stack``).

After a revert or rollback the stack file the user keeps differs from
committed state; this gives them committed state in the same format, to
follow in their source: the types the resources use, each resource with its
type, tags and inputs, connected inputs written as ``${producer.input}`` (also
inside lists), literal strings with ``${`` escaped as ``$${``. Staging the
result over the same committed state stages nothing.

Secret values are never printed, neither as a value nor as ``***``: a secret
input's default in its type and a resource's secret value are each written as
a secret var without a value (``${var.db_password}``, declared under
``vars:``; a value equal to the default is left out, so the default fills it
in again), and the file says so at the top. Staging the printed stack then
needs those values (``--var``, ``--var-file``, ``RETROGRADE_VAR_<name>``), so
it can never overwrite a secret with a mask. A connection is not a value: a
secret input connected to a producer is written ``${producer.input}`` like any
other (list elements too; only its literal elements become vars).

The stack's stored output definitions are written back too (those whose
resources are all in the printed state), so staging the result keeps them; a
secret var's place in an output becomes a secret var as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from retrograde.errors import NotFoundError
from retrograde.model.jsonvalue import JSON, same_json
from retrograde.model.outputs import OutputDef, OutputHidden, OutputRef
from retrograde.model.sealed import is_sealed
from retrograde.model.state import ResourceState, State
from retrograde.model.types import InputSpec, ResourceType, TypeKey

LINE_WIDTH = 1_000_000
"""Long enough that YAML never folds a command template over two lines."""

SECRET_NOTE = (
    "# Secret values (defaults and inputs) are not written: each is a secret var under\n"
    "# vars:, to give when staging this file (--var NAME=VALUE, --var-file FILE or\n"
    "# RETROGRADE_VAR_NAME).\n"
)
_NOT_IN_VAR_NAME = re.compile(r"[^A-Za-z0-9_]")


class SecretVars:
    """The secret vars a printed stack declares in place of the secret values it hides."""

    def __init__(self) -> None:
        self.declared: dict[str, dict[str, Any]] = {}

    def add(self, wanted: str, kind: str) -> str:
        """Declare a secret var named after ``wanted`` (made a var name, unique); its use."""
        base = _NOT_IN_VAR_NAME.sub("_", wanted)
        base = base if base[:1].isalpha() or base[:1] == "_" else f"_{base}"
        name, number = base, 1
        while name in self.declared:
            number += 1
            name = f"{base}_{number}"
        self.declared[name] = {"type": kind, "secret": True}
        return f"${{var.{name}}}"


def stack_text(
    resources: State,
    types: Mapping[TypeKey, ResourceType],
    *,
    rev: int,
    outputs: Sequence[OutputDef] = (),
) -> str:
    """``resources`` (committed state as of ``rev``) as the text of a stack file, with
    the ``outputs`` that name only resources it holds."""
    chosen = used_types(resources, types)
    hidden = SecretVars()
    document: dict[str, Any] = {
        "types": {name: type_document(rtype, hidden) for name, rtype in sorted(chosen.items())},
        "resources": {
            name: resource_document(name, rs, chosen[rs.type], hidden)
            for name, rs in sorted(resources.items())
        },
    }
    kept = [o for o in outputs if _names_only(o, resources)]
    if kept:
        document["outputs"] = {o.name: output_text(o, hidden) for o in kept}
    if hidden.declared:
        document = {"vars": hidden.declared, **document}
    header = f"# Committed state at rev {rev} (retrograde state --stack).\n"
    note = SECRET_NOTE if hidden.declared else ""
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


def type_document(rtype: ResourceType, hidden: SecretVars) -> dict[str, Any]:
    """A type as the stack file writes it (its name is the key, its directory the file's).

    A secret input's default is a secret var, declared in ``hidden``.
    """
    inputs = {name: spec.to_json() for name, spec in rtype.inputs.items()}
    for name, spec in rtype.inputs.items():
        if spec.secret and spec.has_default and spec.default is not None:
            inputs[name]["default"] = hidden.add(f"{rtype.name}_{name}_default", spec.kind.value)
    document: dict[str, Any] = {
        "version": rtype.version,
        "inputs": inputs,
        "actions": {name: spec.to_json() for name, spec in rtype.actions.items()},
    }
    if rtype.migrations:
        document["migrations"] = [dict(step) for step in rtype.migrations]
    return document


def resource_document(
    name: str, rs: ResourceState, rtype: ResourceType, hidden: SecretVars
) -> dict[str, Any]:
    """One resource: type, tags (if any) and inputs; its secret values as vars in ``hidden``."""
    inputs: dict[str, JSON] = {}
    for input_name, value in rs.inputs.items():
        spec = rtype.inputs.get(input_name)
        slot = rs.connections.get(input_name)
        if spec is not None and spec.secret:
            if slot is None and _is_default(spec, value):
                continue
            inputs[input_name] = secret_text(value, slot, hidden.add, f"{name}_{input_name}", spec)
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


def secret_text(
    value: JSON,
    slot: str | list[str | None] | None,
    declare: Callable[[str, str], str],
    wanted: str,
    spec: InputSpec,
) -> JSON:
    """A secret input: its connections as written, every literal part as a secret var
    (``declare(name, kind)`` declares one and gives its ``${var.…}``)."""
    if isinstance(slot, str):
        return f"${{{slot}}}"
    if slot is not None and (isinstance(value, list) or is_sealed(value)):
        return [
            f"${{{ref}}}" if ref is not None else declare(f"{wanted}_{index}", "any")
            for index, ref in enumerate(slot)
        ]
    return declare(wanted, spec.kind.value)


def escaped(value: JSON) -> JSON:
    """``value`` with every ``${`` in its strings written ``$${`` (a literal, not a connection)."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, list):
        return [escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    return value


def output_text(output: OutputDef, hidden: SecretVars) -> JSON:
    """An output as the stack file writes it: a reference, text with references, or a
    constant; each hidden secret var's place a secret var declared in ``hidden``."""
    if len(output.parts) == 1 and not isinstance(output.parts[0], OutputRef | OutputHidden):
        only = output.parts[0]
        return escaped(only) if isinstance(only, str) else only
    pieces = []
    for part in output.parts:
        if isinstance(part, OutputRef):
            pieces.append(f"${{{part.text}}}")
        elif isinstance(part, OutputHidden):
            pieces.append(hidden.add(f"output_{output.name}_{part.var}", "any"))
        else:
            pieces.append(str(escaped(part)))
    return "".join(pieces)


def _names_only(output: OutputDef, resources: State) -> bool:
    return all(p.resource in resources for p in output.parts if isinstance(p, OutputRef))


def _is_default(spec: InputSpec, value: JSON) -> bool:
    return spec.has_default and same_json(spec.default, value)
