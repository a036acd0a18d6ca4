"""The ``python`` handler: call ``module:function`` in-process with the action's context.

The function receives the same dict a shell command reads on stdin. Returning
normally is success; returning ``{"ok": False, "error": ...}`` is a failure
reported without an exception; raising is a failure whose error names the
exception type, its message and the last frames of the traceback. What the
function prints to ``sys.stdout``/``sys.stderr`` is kept as the action's
output (:mod:`retrograde.handlers.capture`), whatever the outcome. The
action's secret values are masked in all of it before anything is cut.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from retrograde.errors import HandlerError
from retrograde.handlers.capture import Captured, capturing
from retrograde.handlers.process import (
    ERROR_TAIL_CHARS,
    captured,
    failure,
    request_mask,
    success,
)
from retrograde.model.apply import ActionOutput, ActionRequest, ActionResult
from retrograde.model.masking import NO_SECRETS, SecretMask
from retrograde.targets import TargetError, TargetProblem, load_callable

ActionFunction = Callable[[dict[str, Any]], object]

TRACEBACK_FRAMES = 3
"""Frames of the traceback kept in a failure: the innermost, where user code failed."""


class PythonHandler:
    """Calls Python action functions; one instance is shared by every worker thread.

    Resolved callables are cached per target, so after the first call an action
    costs a dict lookup and the call itself. Only successful resolutions are
    cached: a target that failed to import is retried on its next use.
    """

    kind: str = "python"

    def __init__(self) -> None:
        self._functions: dict[str, ActionFunction] = {}
        self._lock = threading.Lock()

    def run(self, request: ActionRequest) -> ActionResult:
        """Call the target with the context; its failure or exception becomes a value."""
        context = request["context"]
        resource = str(context.get("resource") or "")
        started = time.perf_counter()
        try:
            function = self.resolve(request["target"], request["cwd"])
        except HandlerError as exc:
            return failure(resource, exc.message)
        with capturing() as printed:
            try:
                returned = function(context)
            except (Exception, SystemExit) as exc:
                raised: BaseException | None = exc
            else:
                raised = None
        output = _output(printed, request)
        if raised is not None:
            error = describe_exception(raised, request_mask(request))
            return failure(resource, error, duration=_since(started), output=output)
        if isinstance(returned, dict) and returned.get("ok") is False:
            error = request_mask(request)(str(returned.get("error", "")))
            return failure(resource, error, duration=_since(started), output=output)
        result = success(resource, _since(started), output)
        if context.get("action") == "read" and isinstance(returned, dict):
            return _with_observed(result, returned)
        return result

    def resolve(self, target: str, directory: str | None = None) -> ActionFunction:
        """The callable named by ``module:function``, importable from ``directory`` (the
        stack's); raises HandlerError naming the target."""
        key = f"{directory}\0{target}"
        function = self._functions.get(key)
        if function is None:
            with self._lock:
                function = self._functions.get(key) or import_target(target, directory)
                self._functions[key] = function
        return function


def import_target(target: str, directory: str | None = None) -> ActionFunction:
    """Import ``module:attr.path`` and return the callable it names (HandlerError if not)."""
    try:
        return load_callable(target, search=directory)
    except TargetError as error:
        raise HandlerError(f"python handler target {target!r} {_problem(error)}") from error


def _problem(error: TargetError) -> str:
    match error.problem:
        case TargetProblem.MALFORMED:
            return "is not 'module:function'"
        case TargetProblem.UNLOADABLE:
            return f"cannot be loaded: {error.detail}"
        case TargetProblem.NOT_CALLABLE:
            return "is not callable"


def describe_exception(exc: BaseException, mask: SecretMask = NO_SECRETS) -> str:
    """``Type: message`` first, then the innermost traceback frames, within the error tail.

    Both are masked whole before they are cut (frames show source lines and
    may show values).
    """
    headline = mask.head(f"{type(exc).__name__}: {exc}", ERROR_TAIL_CHARS // 2)
    frames = "".join(traceback.format_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]).rstrip()
    budget = ERROR_TAIL_CHARS - len(headline) - 1
    return f"{headline}\n{mask.tail(frames, budget)}" if frames else headline


def _output(printed: Captured, request: ActionRequest) -> ActionOutput:
    """What the function printed, masked with the request's secrets (compiled only if needed)."""
    stdout, stderr = printed.text("stdout"), printed.text("stderr")
    if not stdout and not stderr:
        return captured("", "")
    return captured(stdout, stderr, request_mask(request))


def _with_observed(result: ActionResult, returned: dict[Any, Any]) -> ActionResult:
    """A read's result carrying the object it returned, as plain JSON (or a failure saying why
    it is not JSON: it has to cross the executor boundary and be stored)."""
    try:
        observed = json.loads(json.dumps(returned, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        message = f"read returned an object that is not JSON ({type(exc).__name__}: {exc})"
        return failure(result["resource"], message[:ERROR_TAIL_CHARS], output=result.get("output"))
    result["observed"] = observed
    return result


def _since(started: float) -> float:
    return time.perf_counter() - started
