"""Jinja2 templates over an action's context, shared by the ``shell`` and ``command`` handlers.

Templates render under ``StrictUndefined``, so a misspelt input is a failure
rather than an empty string in a command. Each handler keeps one
:class:`ContextTemplates`; compiled templates are cached by their source text
(``functools.lru_cache`` is thread safe), so rendering costs no parsing or
compilation after the first action of a type.

:func:`check_template` finds, without rendering, what would fail every
action of a template: its syntax, names that are no template variable, inputs
the type does not declare (``validate`` and ``stage`` report them).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

import jinja2
from jinja2 import meta, nodes

from retrograde.handlers.process import failure, request_mask, run_for_action
from retrograde.handlers.shell_quoting import QUOTE_FILTER, RAW_FILTER, escape, is_value_root
from retrograde.model.apply import ActionRequest, ActionResult

TEMPLATE_VARIABLES = ("inputs", "previous", "resource", "action", "type", "diff", "apply_id")
"""The context keys a command template may use."""

TEMPLATE_CACHE_SIZE = 1024
"""Distinct templates kept compiled; a stack has a few per resource type."""

Rewrite = Callable[[nodes.Template], nodes.Template]
ArgvBuilder = Callable[[Mapping[str, object]], list[str]]
"""Renders a handler's argv from an action's context (raising ``jinja2.TemplateError``)."""


class ContextTemplates:
    """Compiles (once) and renders templates, each rewritten by ``rewrite`` before compiling."""

    def __init__(self, rewrite: Rewrite | None = None) -> None:
        self._environment = template_environment()
        self._rewrite = rewrite
        self._compile: Callable[[str], jinja2.Template] = functools.lru_cache(
            maxsize=TEMPLATE_CACHE_SIZE
        )(self._compiled)

    def render(self, template: str, context: Mapping[str, object]) -> str:
        """The rendered text; raises ``jinja2.TemplateError`` for a bad or undefined reference."""
        variables = {name: context.get(name) for name in TEMPLATE_VARIABLES}
        return self._compile(template).render(variables)

    def parse(self, template: str) -> nodes.Template:
        """The template's syntax tree; raises ``jinja2.TemplateSyntaxError``."""
        return self._environment.parse(template)

    def _compiled(self, source: str) -> jinja2.Template:
        tree = self._environment.parse(source)
        return self._environment.from_string(self._rewrite(tree) if self._rewrite else tree)


def template_environment() -> jinja2.Environment:
    """Strict, unescaped, with ``| raw`` and the quoting filter the shell handler inserts."""
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.filters[RAW_FILTER] = _raw
    environment.filters[QUOTE_FILTER] = escape
    return environment


def _raw(value: object) -> object:
    """``| raw``: the value as Jinja2 renders it, pasted into a shell command unquoted."""
    return value


def run_templated(request: ActionRequest, build_argv: ArgvBuilder) -> ActionResult:
    """Run the argv ``build_argv`` renders; a template error is a failure that runs nothing.

    The action's secrets are masked in either failure (a template error can quote a value).
    """
    started = time.perf_counter()
    mask = request_mask(request)
    try:
        argv = build_argv(request["context"])
    except jinja2.TemplateError as exc:
        resource = str(request["context"].get("resource") or "")
        problem = mask(template_problem(resource, exc))
        return failure(resource, problem, duration=time.perf_counter() - started)
    return run_for_action(argv, request, mask)


def template_problem(resource: str, exc: jinja2.TemplateError) -> str:
    """One line naming the resource and what is wrong with its command template."""
    where = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
    return f"resource {resource!r}: command template error{where}: {exc.message or exc}"


class TemplateCheck(StrEnum):
    """What :func:`check_template` can find wrong with a command template."""

    SYNTAX = "template-syntax"
    """It does not parse or compile (bad syntax, an unknown filter, a value quoting cannot save)."""
    UNDEFINED = "undefined-name"
    """It names a variable that is not one of :data:`TEMPLATE_VARIABLES`."""
    UNDECLARED_INPUT = "undeclared-input"
    """It reads ``inputs.X`` or ``previous.X`` where X is not an input of the type."""


@dataclass(frozen=True, slots=True)
class TemplateFinding:
    """One problem of one template; ``name`` is the name or reference it is about, if any."""

    check: TemplateCheck
    message: str
    name: str | None = None
    line: int | None = None


def check_template(
    template: str, inputs: Collection[str], rewrite: Rewrite | None = None
) -> list[TemplateFinding]:
    """What would make ``template`` fail for any action, found without rendering it.

    The template is parsed and compiled as its handler compiles it (``rewrite``
    is the handler's, e.g. the shell quoting); a syntax error is the only
    finding then. Otherwise each name outside :data:`TEMPLATE_VARIABLES` (and
    Jinja2's globals, and names the template sets itself) and each
    ``inputs.X``/``previous.X`` with X not in ``inputs`` is one finding. Which
    of them is null for a given action (``previous`` on ``run``) is not judged.
    """
    environment = template_environment()
    try:
        tree = environment.parse(template)
        names = meta.find_undeclared_variables(tree) - set(environment.globals)
        references = input_references(tree)
        environment.from_string(rewrite(tree) if rewrite else tree)
    except jinja2.TemplateSyntaxError as exc:
        return [TemplateFinding(TemplateCheck.SYNTAX, str(exc.message or exc), line=exc.lineno)]
    undefined = [
        TemplateFinding(TemplateCheck.UNDEFINED, f"{name!r} is not a template variable", name)
        for name in sorted(names - set(TEMPLATE_VARIABLES))
    ]
    undeclared = [
        TemplateFinding(
            TemplateCheck.UNDECLARED_INPUT, f"{ref} is not an input of the type", ref, line
        )
        for ref, key, line in references
        if key not in inputs
    ]
    return undefined + undeclared


def input_references(tree: nodes.Template) -> list[tuple[str, str, int]]:
    """Each distinct ``inputs.X``/``inputs['X']`` (and ``previous``) read: (reference, X, line).

    A method called on the mapping (``inputs.items()``) is not a reference.
    """
    called = {id(call.node) for call in tree.find_all(nodes.Call)}
    found: dict[str, tuple[str, str, int]] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node, nodes.Getattr | nodes.Getitem) or id(node) in called:
            continue
        root, key = node.node, _key(node)
        if key is not None and is_value_root(root):
            reference = f"{root.name}.{key}"
            found.setdefault(reference, (reference, key, node.lineno))
    return list(found.values())


def _key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    """The key read, when it is written out (a computed key cannot be judged)."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    arg = node.arg
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None
