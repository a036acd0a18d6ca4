"""The ``shell`` handler: a Jinja2 command template run by ``/bin/sh``.

The target is rendered with the action's context (``inputs``, ``previous``,
``resource``, ``action``, ``type``, ``diff``, ``apply_id``) under
``StrictUndefined``, so a misspelt input is a failure rather than an empty
string in a command. Every ``{{ … }}`` is shell-quoted for where it stands
(see :mod:`retrograde.handlers.shell_quoting`) unless it ends in ``| raw``, so
no input value can change the command's syntax. The command gets the context
as one JSON document on stdin and ``RETROGRADE_ACTION``/``RESOURCE``/``APPLY_ID``
in its environment.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping

import jinja2

from retrograde.handlers.process import action_environment, failure, run_command
from retrograde.handlers.shell_quoting import QUOTE_FILTER, RAW_FILTER, escape, quote_values
from retrograde.model.apply import ActionRequest, ActionResult

TEMPLATE_VARIABLES = ("inputs", "previous", "resource", "action", "type", "diff", "apply_id")
"""The context keys a command template may use."""

SHELL = "/bin/sh"

TEMPLATE_CACHE_SIZE = 1024
"""Distinct command templates kept compiled; a stack has a few per resource type."""


class ShellHandler:
    """Runs command templates; one instance is shared by every worker thread.

    The Jinja2 environment is created once and compiled (quoting) templates are
    cached by their source text (``functools.lru_cache`` is thread safe), so
    rendering costs no parsing or compilation after the first action of a type.
    """

    kind: str = "shell"

    def __init__(self) -> None:
        self._environment = template_environment()
        self._compile: Callable[[str], jinja2.Template] = functools.lru_cache(
            maxsize=TEMPLATE_CACHE_SIZE
        )(self._quoting_template)

    def run(self, request: ActionRequest) -> ActionResult:
        """Render the command, run it in ``cwd``; any failure comes back as a value."""
        context = request["context"]
        resource = str(context.get("resource") or "")
        started = time.perf_counter()
        try:
            command = self.render(request["target"], context)
        except jinja2.TemplateError as exc:
            return failure(
                resource,
                template_problem(resource, exc),
                duration=time.perf_counter() - started,
            )
        return run_command(
            [SHELL, "-c", command],
            resource=resource,
            cwd=request["cwd"],
            env=action_environment(context),
            stdin=json.dumps(context).encode("utf-8"),
            timeout=request["timeout"],
        )

    def render(self, template: str, context: Mapping[str, object]) -> str:
        """The command text; raises ``jinja2.TemplateError`` for a bad or undefined reference."""
        variables = {name: context.get(name) for name in TEMPLATE_VARIABLES}
        return self._compile(template).render(variables)

    def _quoting_template(self, source: str) -> jinja2.Template:
        """``source`` compiled with each value wrapped in the quoting of its place."""
        return self._environment.from_string(quote_values(self._environment.parse(source)))


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment of command templates: strict, unescaped, with ``raw`` and quoting."""
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.filters[RAW_FILTER] = _raw
    environment.filters[QUOTE_FILTER] = escape
    return environment


def _raw(value: object) -> object:
    """``| raw``: the value as Jinja2 renders it, pasted into the command unquoted."""
    return value


def template_problem(resource: str, exc: jinja2.TemplateError) -> str:
    """One line naming the resource and what is wrong with its command template."""
    where = f" (line {exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
    return f"resource {resource!r}: command template error{where}: {exc.message or exc}"
