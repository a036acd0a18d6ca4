"""``validate FILE``: everything ``stage`` checks, plus what only running an action would find.

Beyond parsing and checking the stack file as ``stage`` does (includes,
limits, types, references, cycles, migration steps), validation finds what
would fail every action of a type before anything runs:

* command templates (``shell`` and ``command`` handlers) that do not parse
  or compile, name a variable that is not a template variable, or read
  ``inputs.X``/``previous.X`` where X is not an input of the type (which of
  them is null for a given action is not judged);
* ``python`` targets that cannot be imported or are not callable. They are
  imported here, with the stack file's directory first on ``sys.path``, and
  stay imported. With an executor whose workers run elsewhere (``celery``),
  they are not imported: each is a warning instead.

Warnings also name every input value a shell template pastes unquoted with
``| raw``. Validation opens no store and takes no lock: it reads the stack
file and the files it includes, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from retrograde.commands.migration_steps import StepRegistry
from retrograde.commands.stackfiles import StackVars, read_verb_stack
from retrograde.errors import HandlerError, StackError, one_line
from retrograde.handlers.python import PythonHandler, import_target
from retrograde.handlers.shell import ShellHandler, unquoted_input_values
from retrograde.handlers.shell_quoting import quote_values
from retrograde.handlers.templating import Rewrite, check_template
from retrograde.memory import gc_paused
from retrograde.model.types import COMMAND, ActionSpec, ResourceType, decode_argv
from retrograde.planning.propagation import propagate
from retrograde.planning.stackfile import Stack
from retrograde.planning.type_migrations import MigrationPlanner
from retrograde.targets import importable_from

IN_PROCESS_EXECUTOR = "threads"
"""The executor whose actions run in this process, importing python targets here."""
EXECUTORS = (IN_PROCESS_EXECUTOR, "celery")
"""Executors ``validate`` knows how to judge python targets for."""

STACK = "stack"
"""Problem kind: the stack file itself is refused (the error ``stage`` would raise)."""
PYTHON_TARGET = "python-target"
"""Problem kind: a python target cannot be imported or is not callable."""
UNQUOTED_VALUE = "unquoted-value"
"""Warning kind: a shell template pastes an input value with ``| raw``."""
UNCHECKED_TARGET = "python-target-unchecked"
"""Warning kind: a python target is imported by workers elsewhere, not here."""

_TEMPLATE_REWRITES: dict[str, Rewrite | None] = {ShellHandler.kind: quote_values, COMMAND: None}
"""Handler kinds whose targets are command templates, with the rewrite each compiles with."""


@dataclass(frozen=True, slots=True)
class StackProblem:
    """One thing wrong (or worth a warning) in a stack file, as ``validate`` reports it.

    ``kind`` is one of :data:`STACK`, :data:`PYTHON_TARGET`,
    :data:`UNQUOTED_VALUE`, :data:`UNCHECKED_TARGET` or a
    :class:`~retrograde.handlers.templating.TemplateCheck` value. ``name`` is
    the name, input reference or target the problem is about; ``line`` is a
    line of the template.
    """

    kind: str
    message: str
    file: str
    type: str | None = None
    action: str | None = None
    name: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.type is not None:
            where.append(f"type {self.type!r}")
        if self.action is not None:
            where.append(f"action {self.action!r}")
        return f"{', '.join(where)}: {self.message}"

    def to_json(self) -> StackProblemJSON:
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "type": self.type,
            "action": self.action,
            "name": self.name,
            "line": self.line,
        }


class StackProblemJSON(TypedDict):
    """One problem or warning of ``validate --json``."""

    kind: str
    message: str
    file: str
    type: str | None
    action: str | None
    name: str | None
    line: int | None


class ValidationJSON(TypedDict):
    """``validate --json``."""

    ok: bool
    problems: list[StackProblemJSON]
    warnings: list[StackProblemJSON]


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``validate`` found: problems (the file would fail) and warnings (it would not)."""

    file: str
    problems: tuple[StackProblem, ...]
    warnings: tuple[StackProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> ValidationJSON:
        return {
            "ok": self.ok,
            "problems": [problem.to_json() for problem in self.problems],
            "warnings": [warning.to_json() for warning in self.warnings],
        }


def validate(
    path: Path,
    *,
    cwd: Path | None = None,
    allow_include: Sequence[Path] = (),
    executor: str = IN_PROCESS_EXECUTOR,
    stack_vars: StackVars | None = None,
) -> Validation:
    """Check the stack file at ``path`` (relative to ``cwd``) without a store.

    A file ``stage`` would refuse is one :data:`STACK` problem (the first
    found, as ``stage`` reports it); otherwise every template and python
    target is checked (see :func:`check_stack`). ``allow_include`` is as for
    ``stage``. Raises HandlerError for an ``executor`` not in :data:`EXECUTORS`.
    """
    if executor not in EXECUTORS:
        raise HandlerError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    base = cwd if cwd is not None else Path.cwd()
    try:
        with gc_paused():
            stack = read_verb_stack(base, path, allow_include=allow_include, stack_vars=stack_vars)
            check_definitions(stack)
    except StackError as error:
        return Validation(str(path), (_stack_problem(str(path), error),))
    return Validation(
        str(path),
        tuple(check_stack(stack, executor=executor)),
        tuple(stack_warnings(stack, executor=executor)),
    )


def check_definitions(stack: Stack) -> None:
    """What ``stage`` checks of a parsed stack before it reads the store: migration steps and
    connections. Raises the StackError ``stage`` would."""
    MigrationPlanner(stack.types, StepRegistry.installed()).check_all()
    propagate(stack.resources)


def check_stack(stack: Stack, *, executor: str = IN_PROCESS_EXECUTOR) -> list[StackProblem]:
    """Every problem of the command templates and python targets of ``stack``'s types.

    Python targets are imported (with the type's directory first on
    ``sys.path``) only for the in-process executor. In stack order.
    """
    problems: list[StackProblem] = []
    for rtype in stack.types.values():
        for action, spec in rtype.actions.items():
            problems += _action_problems(stack.source, rtype, action, spec, executor)
    return problems


def stack_warnings(stack: Stack, *, executor: str = IN_PROCESS_EXECUTOR) -> list[StackProblem]:
    """Values pasted with ``| raw``, then (other executors) the python targets not imported."""
    warnings = [
        StackProblem(
            UNQUOTED_VALUE,
            f"{found.input} is pasted into the shell command unquoted (| raw); "
            "a value holding shell syntax will run",
            stack.source,
            found.type,
            found.action,
            found.input,
        )
        for found in unquoted_input_values(stack.types.values())
    ]
    if executor != IN_PROCESS_EXECUTOR:
        warnings += [
            StackProblem(
                UNCHECKED_TARGET,
                f"python target {spec.target!r} is imported where the {executor} workers run; "
                "not checked here",
                stack.source,
                rtype.name,
                action,
                spec.target,
            )
            for rtype in stack.types.values()
            for action, spec in rtype.actions.items()
            if spec.handler == PythonHandler.kind
        ]
    return warnings


def raise_problems(problems: Sequence[StackProblem]) -> None:
    """Raise one StackError naming the first of ``problems`` and how many more (none: return)."""
    if not problems:
        return
    more = len(problems) - 1
    rest = f" (and {more} more; `retrograde validate` lists them)" if more else ""
    raise StackError(f"{problems[0]}{rest}")


def _action_problems(
    source: str, rtype: ResourceType, action: str, spec: ActionSpec, executor: str
) -> list[StackProblem]:
    if spec.handler in _TEMPLATE_REWRITES:
        rewrite = _TEMPLATE_REWRITES[spec.handler]
        templates = decode_argv(spec.target) if spec.handler == COMMAND else [spec.target]
        return _template_problems(source, rtype, action, templates, rewrite)
    if spec.handler == PythonHandler.kind and executor == IN_PROCESS_EXECUTOR:
        return _target_problems(source, rtype, action, spec.target)
    return []


def _template_problems(
    source: str, rtype: ResourceType, action: str, templates: list[str], rewrite: Rewrite | None
) -> list[StackProblem]:
    problems: list[StackProblem] = []
    for number, template in enumerate(templates):
        argument = f" argument {number + 1}" if len(templates) > 1 else ""
        for found in check_template(template, rtype.inputs, rewrite):
            line = f" (line {found.line})" if found.line is not None else ""
            message = f"command template{argument}{line}: {found.message}"
            problems.append(
                StackProblem(
                    found.check.value, message, source, rtype.name, action, found.name, found.line
                )
            )
    return problems


def _target_problems(
    source: str, rtype: ResourceType, action: str, target: str
) -> list[StackProblem]:
    try:
        with importable_from(rtype.base_dir, write_bytecode=False):
            import_target(target)
    except HandlerError as error:
        return [StackProblem(PYTHON_TARGET, error.message, source, rtype.name, action, target)]
    return []


def _stack_problem(file: str, error: StackError) -> StackProblem:
    """A refused stack file as a problem; ``file`` is the error's location when it has one."""
    return StackProblem(STACK, one_line(error.problem), error.location or file)
