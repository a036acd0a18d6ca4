"""Handler lookup by kind, and the one entry point executors call for an action.

The registry is an explicit constant built from the handler classes; nothing
registers itself on import. Each kind is instantiated once, lazily, and shared
by all worker threads (handlers keep only thread-safe caches), so dispatching
an action costs a dict lookup.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from retrograde.errors import HandlerError
from retrograde.handlers.ansible import AnsibleHandler
from retrograde.handlers.base import Handler
from retrograde.handlers.command import CommandHandler
from retrograde.handlers.noop import NoopHandler
from retrograde.handlers.process import failure, request_mask
from retrograde.handlers.python import PythonHandler
from retrograde.handlers.shell import ShellHandler
from retrograde.model.apply import ActionRequest, ActionResult

HANDLERS: Mapping[str, Callable[[], Handler]] = {
    cls.kind: cls
    for cls in (ShellHandler, CommandHandler, PythonHandler, AnsibleHandler, NoopHandler)
}
"""Every handler kind retrograde knows, by the name used in a stack file."""


@functools.cache
def handler_for(kind: str) -> Handler:
    """The shared handler for ``kind``; raises HandlerError for an unknown kind."""
    factory = HANDLERS.get(kind)
    if factory is None:
        known = ", ".join(sorted(HANDLERS))
        raise HandlerError(f"unknown handler kind {kind!r} (known: {known})")
    return factory()


def run_action(request: ActionRequest) -> ActionResult:
    """Perform one action and report it; never raises (except KeyboardInterrupt).

    Misconfiguration (unknown kind) and bugs in a handler alike come back as a
    failure value, because an exception crossing a worker thread or process
    boundary would lose the resource it belongs to. Handlers mask the
    request's secrets in what they report; so is the text of such a bug.
    """
    try:
        return handler_for(request["handler"]).run(request)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a failure value, whatever the handler raised
        return failure(_resource_of(request), request_mask(request)(_describe(request, exc)))


def _describe(request: ActionRequest, exc: BaseException) -> str:
    if isinstance(exc, HandlerError):
        return exc.message
    handler = request.get("handler", "?") if isinstance(request, Mapping) else "?"
    return f"{handler} handler failed: {type(exc).__name__}: {exc}"


def _resource_of(request: object) -> str:
    """The resource named by a possibly malformed request, or an empty string."""
    context = request.get("context") if isinstance(request, Mapping) else None
    return str(context.get("resource") or "") if isinstance(context, Mapping) else ""
