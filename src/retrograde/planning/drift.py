"""Drift: where a resource's actual inputs (what its ``read`` action reports) differ from
committed state. Pure.

A read action reports one JSON object of input values. Keys it leaves out are
not compared (a read may know only part of a resource); a key the type does
not declare, a value of the wrong kind, or anything but one JSON object is
that resource's failure (:class:`ReadProblem`), never a guess. Committed and
observed values compare as canonical JSON, as staging compares them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from retrograde.model.apply import ActionResult
from retrograde.model.change import ActionName, Change, input_diff
from retrograde.model.jsonvalue import JSON, same_json
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType

READ_ACTION = "read"
"""The name of the optional action that reports a resource's actual inputs."""


class ReadProblem(ValueError):
    """What a read reported cannot be taken as the resource's inputs; the message says why."""


@dataclass(frozen=True, slots=True)
class InputDrift:
    """One input whose observed value differs from its committed one."""

    committed: JSON
    observed: JSON


Drift = Mapping[str, Mapping[str, InputDrift]]
"""Resource -> input -> committed and observed values, only where they differ."""


def parse_report(text: str) -> dict[str, JSON]:
    """The one JSON object ``text`` holds (surrounding whitespace allowed), else ReadProblem.

    ``NaN`` and ``Infinity`` are refused: they are not JSON and no input can hold them.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ReadProblem(f"read did not print one JSON object ({_short(exc)})") from None
    if not isinstance(value, dict):
        raise ReadProblem(f"read printed a JSON {_kind(value)}, not an object of inputs")
    return value


def reported_inputs(result: ActionResult, rtype: ResourceType) -> dict[str, JSON]:
    """The inputs a read's result reports (the handler's ``observed``, or the one JSON object
    it printed), checked against its type; ReadProblem when it failed or said nothing usable."""
    if not result["ok"]:
        code = result.get("exit_code")
        prefix = f"read failed (exit {code})" if code is not None else "read failed"
        error = result.get("error", "").strip()
        raise ReadProblem(f"{prefix}: {error}" if error else prefix)
    reported = result.get("observed")
    if reported is None:
        output = result.get("output")
        if output is not None and output.get("truncated"):
            raise ReadProblem("read printed more than the output cap; print only the inputs")
        reported = parse_report(output["stdout"] if output is not None else "")
    return observed_inputs(rtype, reported)


def observed_inputs(rtype: ResourceType, reported: Mapping[str, object]) -> dict[str, JSON]:
    """``reported`` checked against ``rtype``: every key a declared input of the right kind."""
    unknown = sorted(key for key in reported if key not in rtype.inputs)
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise ReadProblem(f"read reported {names}, not an input of type {rtype.name!r}")
    for name, value in reported.items():
        spec = rtype.inputs[name]
        if not spec.kind.accepts(value):  # type: ignore[arg-type]
            raise ReadProblem(
                f"read reported input {name!r} as a {_kind(value)}, its type says {spec.kind.value}"
            )
    return dict(reported)  # type: ignore[arg-type]


def drift_of(state: ResourceState, observed: Mapping[str, JSON]) -> dict[str, InputDrift]:
    """The inputs whose observed value differs from the committed one, in name order."""
    return {
        name: InputDrift(state.inputs.get(name), observed[name])
        for name in sorted(observed)
        if name not in state.inputs or not same_json(state.inputs[name], observed[name])
    }


def observed_state(state: ResourceState, drift: Mapping[str, InputDrift]) -> ResourceState:
    """``state`` with each drifted input at its observed value (connections and tags kept)."""
    inputs = dict(state.inputs)
    inputs.update((name, entry.observed) for name, entry in drift.items())
    return ResourceState(state.type, state.version, inputs, state.connections, state.tags)


def observe_change(name: str, state: ResourceState, drift: Mapping[str, InputDrift]) -> Change:
    """The ``observe`` change that records ``drift`` as committed: committed -> observed."""
    after = observed_state(state, drift)
    return Change(name, ActionName.OBSERVE, state, after, input_diff(state.inputs, after.inputs))


def connected_drift(state: ResourceState, drift: Mapping[str, InputDrift]) -> list[str]:
    """The drifted inputs that take their value through a connection (accepting them would
    contradict their producer)."""
    return [name for name in drift if name in state.connections]


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
