"""Jinja2 templates over an action's context, shared by the ``shell`` and ``command`` handlers.

Templates render under ``StrictUndefined``, so a misspelt input is a failure
rather than an empty string in a command. Each handler keeps one
:class:`ContextTemplates`; compiled templates are cached by their source text
(``functools.lru_cache`` is thread safe), so rendering costs no parsing or
compilation after the first action of a type.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping

import jinja2
from jinja2 import nodes

from retrograde.handlers.process import failure, request_mask, run_for_action
from retrograde.handlers.shell_quoting import QUOTE_FILTER, RAW_FILTER, escape
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
