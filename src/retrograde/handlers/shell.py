"""The ``shell`` handler: a Jinja2 command template run by ``/bin/sh``.

The target is rendered with the action's context (``inputs``, ``previous``,
``resource``, ``action``, ``type``, ``diff``, ``apply_id``; see
:mod:`retrograde.handlers.templating`). Every ``{{ … }}`` is shell-quoted for
where it stands (see :mod:`retrograde.handlers.shell_quoting`) unless it ends
in ``| raw``, so no input value can change the command's syntax. The command
runs as :func:`~retrograde.handlers.process.run_for_action` runs it: context
as JSON on stdin, ``RETROGRADE_*`` in its environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import jinja2

from retrograde.handlers.shell_quoting import quote_values, raw_values
from retrograde.handlers.templating import ContextTemplates, run_templated
from retrograde.model.apply import ActionRequest, ActionResult
from retrograde.model.types import ResourceType

SHELL = "/bin/sh"


class ShellHandler:
    """Runs command templates; one instance is shared by every worker thread."""

    kind: str = "shell"

    def __init__(self) -> None:
        self._templates = ContextTemplates(quote_values)

    def run(self, request: ActionRequest) -> ActionResult:
        """Render the command, run it in ``cwd``; any failure comes back as a value."""
        target = request["target"]
        return run_templated(request, lambda context: [SHELL, "-c", self.render(target, context)])

    def render(self, template: str, context: Mapping[str, object]) -> str:
        """The command text; raises ``jinja2.TemplateError`` for a bad or undefined reference."""
        return self._templates.render(template, context)


@dataclass(frozen=True, slots=True)
class UnquotedValue:
    """A shell action pastes an input value into its command unquoted (``| raw``)."""

    type: str
    action: str
    input: str
    """The reference as the template has it: ``inputs.ip``, ``previous.ip``, or ``inputs``."""

    @property
    def message(self) -> str:
        return (
            f"type {self.type!r}, action {self.action!r}: {self.input} is pasted into the "
            "shell command unquoted (| raw); a value holding shell syntax will run"
        )


def unquoted_input_values(types: Iterable[ResourceType]) -> Iterator[UnquotedValue]:
    """Every input value a shell action of ``types`` pastes with ``| raw``, in stack order."""
    templates = ContextTemplates()
    for rtype in types:
        for action, spec in rtype.actions.items():
            if spec.handler == ShellHandler.kind:
                for reference in unquoted_values(spec.target, templates):
                    yield UnquotedValue(rtype.name, action, reference)


def unquoted_values(template: str, templates: ContextTemplates) -> list[str]:
    """The input references a shell template pastes unquoted with ``| raw`` (``inputs.ip``).

    A template that does not parse has none (running it fails the action).
    """
    try:
        return raw_values(templates.parse(template))
    except jinja2.TemplateSyntaxError:
        return []
