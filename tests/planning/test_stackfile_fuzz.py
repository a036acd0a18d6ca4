"""Fuzzing the stack-file loader: any text is a Stack or one located line, quickly.

Two generators feed real files to :func:`read_stack`: YAML-ish text glued from
the tokens that steer a YAML parser (anchors, tags, flow brackets, huge
numbers), and structured stack documents (types, resources, inputs,
connections, includes of other generated files) dumped as YAML. Every outcome
must be a :class:`Stack` or a :class:`StackError` whose message is one line
with a location; any other exception, or a slow example, fails.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrograde.commands.stackfiles import read_stack
from retrograde.errors import StackError
from retrograde.planning.stackfile import Stack

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

FUZZ = settings(
    max_examples=int(os.environ.get("RETROGRADE_FUZZ_EXAMPLES", "150")),
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Bounded so the whole module runs in CI in seconds; raise RETROGRADE_FUZZ_EXAMPLES to dig."""

TOKENS = [
    *("\n", "  ", " ", "- ", ": ", ":", ",", "[", "]", "{", "}", "#", "'", '"', "?", "|", ">"),
    *("&a ", "*a", "&b ", "*b", "<<: ", "!!int ", "!!str ", "!!float ", "!!bool ", "!!binary "),
    *("!!map ", "!!seq ", "!x ", "---\n", "...\n", "%YAML 1.1\n", "\t", "\x00", "\ufeff"),
    *("include", "types", "resources", "inputs", "type", "version", "actions", "default"),
    *("secret", "tags", "migrations", "from", "to", "shell", "run", "web", "w", "port"),
    *("${w.port}", "$${", "${", "1", "-1", "0x1f", "0b_", "0o7", "1_0", "1:30", "._"),
    *(".inf", ".nan", "1e999", "9" * 25, "9" * 4400, "true", "null", "~", "2024-01-01"),
    *("integer", "string", "list", "object", "any", "number", "boolean"),
    *("../x.yaml", "/dev/zero", "t.yaml", "sub/t.yaml", "sub", '"t\\0.yaml"', '"\\x85"'),
]

NAMES = st.sampled_from(["w", "db", "db.primary", "x-1", "", "9", "a b", "w\n", "web"])
INPUT_NAMES = st.sampled_from(["port", "ip", "data", "_x", "1bad", "p\x1b"])
KINDS = st.sampled_from(["string", "integer", "number", "boolean", "list", "object", "any", "x"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["${w.port}", "${db.primary.ip}", "${nope.x}", "$${HOME}", "a ${w.ip}"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
INCLUDES = st.lists(
    st.sampled_from(
        ["t.yaml", "sub/t.yaml", "../out.yaml", "/dev/zero", "sub", "missing.yaml", "t\0.yaml"]
    ),
    max_size=3,
)


@st.composite
def input_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": draw(KINDS)}
    if draw(st.booleans()):
        spec["default"] = draw(VALUES)
    if draw(st.booleans()):
        spec["secret"] = draw(st.booleans() | st.integers(0, 2))
    return spec


@st.composite
def type_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": draw(st.integers(min_value=-1, max_value=2**64) | st.text(max_size=3)),
        "inputs": draw(st.dictionaries(INPUT_NAMES, input_specs(), max_size=3)),
    }
    if draw(st.booleans()):
        spec["actions"] = {"run": {draw(st.sampled_from(["shell", "python", "bash"])): "true"}}
    if draw(st.booleans()):
        spec["migrations"] = [{"from": 1, "to": draw(st.integers(-1, 2**64))}]
    return spec


@st.composite
def stack_documents(draw: st.DrawFn, *, with_resources: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["include"] = draw(INCLUDES)
    doc["types"] = draw(st.dictionaries(NAMES, type_specs(), max_size=3))
    if with_resources:
        doc["resources"] = draw(
            st.dictionaries(
                NAMES,
                st.fixed_dictionaries(
                    {"type": NAMES, "inputs": st.dictionaries(INPUT_NAMES, VALUES, max_size=3)},
                    optional={"tags": st.dictionaries(st.text(max_size=4), SCALARS, max_size=2)},
                ),
                max_size=4,
            )
        )
    return doc


def _load(files: dict[str, str | bytes]) -> None:
    """Write ``files`` (``stack.yaml`` among them) into a fresh tree and read the stack."""
    with tempfile.TemporaryDirectory() as root:
        tree = Path(root) / "tree"
        for name, content in files.items():
            path = tree / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (Path(root) / "out.yaml").write_text("types: {leak: {version: 1}}\n", encoding="utf-8")
        _check(tree / "stack.yaml")


def _check(path: Path) -> None:
    """The loader's contract: a Stack, or one StackError line located in a file."""
    try:
        result = read_stack(path)
    except StackError as error:
        message = str(error)
        assert len(message.splitlines()) == 1, message
        assert error.location, message
        assert "leak" not in message
        return
    assert isinstance(result, Stack)
    assert "leak" not in result.types


def _dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=None)


@FUZZ
@given(text=st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_yaml_ish_text_is_a_stack_or_one_line(text: str) -> None:
    """Glued YAML tokens: never a traceback, never more than one line."""
    _load({"stack.yaml": text, "t.yaml": text})


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_text_is_a_stack_or_one_line(text: str) -> None:
    """Any Unicode text (control characters, BOMs, surrogate-free): the same contract."""
    _load({"stack.yaml": text})


@FUZZ
@given(
    stack=stack_documents(with_resources=True),
    included=stack_documents(with_resources=False),
    nested=stack_documents(with_resources=False),
    raw=st.binary(max_size=20),
)
def test_structured_stacks_are_a_stack_or_one_line(
    stack: dict[str, Any], included: dict[str, Any], nested: dict[str, Any], raw: bytes
) -> None:
    """Generated types, resources, connections and includes of generated files."""
    files: dict[str, str | bytes] = {
        "stack.yaml": _dump(stack),
        "t.yaml": _dump(included),
        "sub/t.yaml": _dump(nested),
    }
    if raw:
        files["missing.yaml"] = raw
    _load(files)
