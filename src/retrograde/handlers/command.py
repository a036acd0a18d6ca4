"""The ``command`` handler: an argv list run without a shell.

Each element of the argv is a Jinja2 template over the action's context (see
:mod:`retrograde.handlers.templating`), rendered to exactly one argument with
no quoting, because no shell reads it: an input value is one argument whatever
it holds. The program runs as
:func:`~retrograde.handlers.process.run_for_action` runs it (in the stack
file's directory, context as JSON on stdin, ``RETROGRADE_*`` in its
environment, the action's timeout); a program not on ``PATH`` is a failure.
"""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.handlers.templating import ContextTemplates, run_templated
from retrograde.model.apply import ActionRequest, ActionResult
from retrograde.model.types import COMMAND, decode_argv


class CommandHandler:
    """Runs argv templates; one instance is shared by every worker thread."""

    kind: str = COMMAND

    def __init__(self) -> None:
        self._templates = ContextTemplates()

    def run(self, request: ActionRequest) -> ActionResult:
        """Render each argument, run the program in ``cwd``; any failure comes back as a value."""
        templates = decode_argv(request["target"])
        return run_templated(request, lambda context: self.render(templates, context))

    def render(self, templates: list[str], context: Mapping[str, object]) -> list[str]:
        """One argument per template; raises ``jinja2.TemplateError`` for a bad reference."""
        return [self._templates.render(template, context) for template in templates]
