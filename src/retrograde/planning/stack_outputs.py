"""A stack file's ``outputs:``: each a ``${resource.input}``, text with such references,
or a constant (any other YAML value, kept as it is).

References are checked against the stack's resources and types when the file
is read (the resource must be in the stack and declare the input); a list or
object input can be a whole output but not part of a text. ``${var.NAME}``
is replaced by the var's value (a secret var makes the output secret, and its
value is not kept: the output only ever shows ``***``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from retrograde.errors import StackSyntaxError, UnknownReferenceError
from retrograde.model.jsonvalue import Raw
from retrograde.model.outputs import OutputDef, OutputHidden, OutputPart, OutputRef
from retrograde.model.state import ResourceState, parse_ref
from retrograde.model.types import InputKind, ResourceType
from retrograde.planning.stackfile_values import check_name, mapping, plain_json
from retrograde.planning.stackfile_vars import VAR_NAME, Vars
from retrograde.planning.stackfile_yaml import Document, Path

OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_REFERENCE = re.compile(r"(?<!\$)\$\{([^{}]*)\}")
_OPEN = re.compile(r"(?<!\$)\$\{")
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.[A-Za-z_][A-Za-z0-9_]*")


def parse_outputs(
    doc: Document,
    raw: Raw,
    resources: Mapping[str, ResourceState],
    types: Mapping[str, ResourceType],
    vars: Vars,
) -> dict[str, OutputDef]:
    """The stack's outputs by name, in file order."""
    outputs = {}
    for name, value in mapping(doc, ("outputs",), raw, "outputs").items():
        path = ("outputs", name)
        check_name(doc, path, name, OUTPUT_NAME, "output")
        if value.__class__ is not str:
            outputs[name] = OutputDef(name, (plain_json(doc, path, value),))
            continue
        outputs[name] = _Output(doc, path, resources, types, vars).parse(name, value)
    return outputs


class _Output:
    """Reads one output's text into parts, noting whether it is secret."""

    def __init__(
        self,
        doc: Document,
        path: Path,
        resources: Mapping[str, ResourceState],
        types: Mapping[str, ResourceType],
        vars: Vars,
    ) -> None:
        self._doc = doc
        self._path = path
        self._resources = resources
        self._types = types
        self._vars = vars
        self._secret = False

    def parse(self, name: str, text: str) -> OutputDef:
        parts: list[OutputPart] = []
        start = 0
        references = list(_REFERENCE.finditer(text))
        whole = len(references) == 1 and references[0].span() == (0, len(text))
        for match in references:
            self._text(parts, text[start : match.start()])
            parts.append(self._reference(match.group(1), whole=whole))
            start = match.end()
        self._text(parts, text[start:])
        return OutputDef(name, tuple(parts), self._secret)

    def _text(self, parts: list[OutputPart], text: str) -> None:
        if not text:
            return
        if _OPEN.search(text):
            raise StackSyntaxError(
                "an unclosed ${ in an output; write $${ for a literal ${",
                location=self._doc.at(self._path),
            )
        parts.append(text.replace("$${", "${"))

    def _reference(self, inner: str, *, whole: bool) -> OutputPart:
        if inner.startswith("var.") and VAR_NAME.fullmatch(inner[4:]):
            return self._var(inner[4:], whole=whole)
        if not _REF.fullmatch(inner):
            raise StackSyntaxError(
                f"malformed reference ${{{inner}}} in an output: write ${{resource.input}}",
                location=self._doc.at(self._path),
            )
        resource, input_name = parse_ref(inner)
        spec = self._input(resource, input_name, inner)
        self._secret = self._secret or spec.secret
        if not whole and spec.kind in (InputKind.LIST, InputKind.OBJECT):
            raise StackSyntaxError(
                f"${{{inner}}} is a {spec.kind.value} input: it can be a whole output,"
                " but not part of a text",
                location=self._doc.at(self._path),
            )
        return OutputRef(resource, input_name)

    def _input(self, resource: str, input_name: str, inner: str) -> Raw:
        state = self._resources.get(resource)
        if state is None:
            raise UnknownReferenceError(
                f"output ${{{inner}}} names unknown resource {resource!r}",
                resource=resource,
                input=input_name,
                location=self._doc.at(self._path),
            )
        spec = self._types[state.type].inputs.get(input_name)
        if spec is None:
            raise UnknownReferenceError(
                f"output ${{{inner}}}: resource {resource!r} (type {state.type!r})"
                f" has no input {input_name!r}",
                resource=resource,
                input=input_name,
                location=self._doc.at(self._path),
            )
        return spec

    def _var(self, name: str, *, whole: bool) -> OutputPart:
        vars, doc, path = self._vars, self._doc, self._path
        value = vars.use(doc, path, name, True) if whole else vars.text(doc, path, name, True)
        if vars.is_secret(name):
            self._secret = True
            return OutputHidden(name)  # the value is never kept: a secret output shows ***
        return value
