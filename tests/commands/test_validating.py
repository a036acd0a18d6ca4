"""``validate``: what stage checks, plus command templates and python targets, with no store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from retrograde.commands.stackfiles import read_stack
from retrograde.commands.validating import (
    PYTHON_TARGET,
    STACK,
    UNCHECKED_TARGET,
    UNQUOTED_VALUE,
    StackProblem,
    check_stack,
    raise_problems,
    validate,
)
from retrograde.errors import HandlerError, StackError
from tests.commands.stacks import V1, write


def stack_with(actions: str, inputs: str = "ip: {type: string}") -> str:
    """A stack of one type ``node`` with ``actions`` (YAML flow mappings) and one resource."""
    return f"""
types:
  node:
    version: 1
    inputs: {{{inputs}}}
    actions:
{actions}
resources:
  n1: {{type: node, inputs: {{ip: 10.0.0.1}}}}
"""


def kinds(problems: tuple[StackProblem, ...]) -> list[tuple[str, str | None, str | None]]:
    return [(p.kind, p.action, p.name) for p in problems]


def test_valid_stack_has_no_problems(tmp_path: Path) -> None:
    """The deployment stack the other tests apply validates clean."""
    write(tmp_path, "v1.yaml", V1)
    found = validate(Path("v1.yaml"), cwd=tmp_path)
    assert found.ok
    assert (found.problems, found.warnings) == ((), ())
    assert found.to_json() == {"ok": True, "problems": [], "warnings": []}


def test_template_syntax_error_names_type_action_and_line(tmp_path: Path) -> None:
    """A shell template that does not parse is a problem at its line, for its type and action."""
    write(tmp_path, "s.yaml", stack_with('      run: {shell: "echo ok\\necho {{ inputs.ip"}'))
    (problem,) = validate(Path("s.yaml"), cwd=tmp_path).problems
    assert (problem.kind, problem.type, problem.action, problem.line) == (
        "template-syntax",
        "node",
        "run",
        2,
    )
    assert str(problem).startswith("s.yaml, type 'node', action 'run': command template (line 2):")


def test_unknown_filter_and_backslash_before_a_value_are_syntax_errors(tmp_path: Path) -> None:
    """What fails when the shell handler compiles a template fails validation too."""
    actions = (
        '      run: {shell: "echo {{ inputs.ip | nosuchfilter }}"}\n'
        '      update: {shell: "echo \\\\{{ inputs.ip }}"}'
    )
    write(tmp_path, "s.yaml", stack_with(actions))
    problems = validate(Path("s.yaml"), cwd=tmp_path).problems
    assert kinds(problems) == [
        ("template-syntax", "run", None),
        ("template-syntax", "update", None),
    ]
    assert "nosuchfilter" in problems[0].message
    assert "backslash" in problems[1].message


def test_undefined_template_name(tmp_path: Path) -> None:
    """A name outside the template variables is a problem; Jinja2 globals and set names are not."""
    template = "{% set n = 1 %}echo {{ resourse }} {{ n }} {{ range(2) | list }} {{ resource }}"
    write(tmp_path, "s.yaml", stack_with(f'      run: {{shell: "{template}"}}'))
    found = validate(Path("s.yaml"), cwd=tmp_path)
    assert kinds(found.problems) == [("undefined-name", "run", "resourse")]


def test_undeclared_inputs_and_previous(tmp_path: Path) -> None:
    """``inputs.X``/``previous['X']`` must name a declared input; methods of the mapping may be
    called."""
    actions = (
        '      run: {command: [deploy, "{{ inputs.ip }}", "{{ inputs.port }}"]}\n'
        "      update: {shell: \"echo {{ previous['addr'] }} {{ inputs.items() | list }}\"}"
    )
    write(tmp_path, "s.yaml", stack_with(actions))
    problems = validate(Path("s.yaml"), cwd=tmp_path).problems
    assert kinds(problems) == [
        ("undeclared-input", "run", "inputs.port"),
        ("undeclared-input", "update", "previous.addr"),
    ]
    assert problems[0].message == (
        "command template argument 3 (line 1): inputs.port is not an input of the type"
    )


def python_stack(tmp_path: Path) -> str:
    """A stack whose python targets live in a module of the stack's directory (unique name)."""
    module = f"handlers_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text("def ok(ctx):\n    return None\n\nLIMIT = 3\n")
    actions = (
        f'      run: {{python: "{module}:ok"}}\n'
        f'      update: {{python: "{module}:missing"}}\n'
        f'      remove: {{python: "{module}:LIMIT"}}'
    )
    other = (
        '  other:\n    version: 1\n    actions:\n      run: {python: "no_such_module_here.sub:f"}\n'
    )
    stack = stack_with(actions).replace("resources:", f"{other}resources:")
    write(tmp_path, "s.yaml", stack)
    return module


def test_python_targets_are_imported_from_the_stack_directory(tmp_path: Path) -> None:
    """Missing attribute, not callable and module not found are problems; a good target is
    not; no bytecode is left in the stack's directory."""
    module = python_stack(tmp_path)
    found = validate(Path("s.yaml"), cwd=tmp_path)
    assert kinds(found.problems) == [
        (PYTHON_TARGET, "update", f"{module}:missing"),
        (PYTHON_TARGET, "remove", f"{module}:LIMIT"),
        (PYTHON_TARGET, "run", "no_such_module_here.sub:f"),
    ]
    messages = [p.message for p in found.problems]
    assert "AttributeError" in messages[0]
    assert messages[1].endswith("is not callable")
    assert "ModuleNotFoundError" in messages[2]
    assert not (tmp_path / "__pycache__").exists()
    assert str(tmp_path) not in __import__("sys").path


def test_celery_executor_warns_instead_of_importing(tmp_path: Path) -> None:
    """With workers elsewhere, python targets are warnings, and the file is valid."""
    python_stack(tmp_path)
    found = validate(Path("s.yaml"), cwd=tmp_path, executor="celery")
    assert found.ok
    assert [(w.kind, w.action) for w in found.warnings] == [
        (UNCHECKED_TARGET, "run"),
        (UNCHECKED_TARGET, "update"),
        (UNCHECKED_TARGET, "remove"),
        (UNCHECKED_TARGET, "run"),
    ]
    with pytest.raises(HandlerError, match="unknown executor 'nope'"):
        validate(Path("s.yaml"), cwd=tmp_path, executor="nope")


def test_raw_input_value_is_a_warning(tmp_path: Path) -> None:
    """``| raw`` on an input is reported as stage reports it, and does not fail validation."""
    write(tmp_path, "s.yaml", stack_with('      run: {shell: "ip addr add {{ inputs.ip | raw }}"}'))
    found = validate(Path("s.yaml"), cwd=tmp_path)
    assert found.ok
    assert [(w.kind, w.type, w.action, w.name) for w in found.warnings] == [
        (UNQUOTED_VALUE, "node", "run", "inputs.ip")
    ]


def test_what_stage_refuses_is_one_stack_problem(tmp_path: Path) -> None:
    """A connection cycle is reported as stage reports it, located in the file."""
    cycle = stack_with("      run: {shell: 'true'}").replace(
        "n1: {type: node, inputs: {ip: 10.0.0.1}}",
        'a: {type: node, inputs: {ip: "${b.ip}"}}\n  b: {type: node, inputs: {ip: "${a.ip}"}}',
    )
    write(tmp_path, "s.yaml", cycle)
    (problem,) = validate(Path("s.yaml"), cwd=tmp_path).problems
    assert problem.kind == STACK
    assert problem.file.startswith("s.yaml:")
    assert "cycle" in problem.message


def test_raise_problems_names_the_first_and_counts_the_rest(tmp_path: Path) -> None:
    """What stage raises for a stack with template problems."""
    actions = '      run: {shell: "{{ a }}"}\n      update: {shell: "{{ b }}"}'
    stack = read_stack(write(tmp_path, "s.yaml", stack_with(actions)), source="s.yaml")
    problems = check_stack(stack)
    assert len(problems) == 2
    with pytest.raises(StackError, match=r"action 'run'.*'a' is not a template.*and 1 more"):
        raise_problems(problems)
    raise_problems([])
