"""retrograde: stage, apply and roll back changes to a graph of connected resources.

The same verbs as the command line, as functions taking a :class:`Context`::

    import retrograde

    with retrograde.open_context() as ctx:
        retrograde.stage(ctx, Path("stack.yaml"))
        print(retrograde.plan(ctx).to_json())
        report = retrograde.apply(ctx, message="first deployment")

Names are imported on first use (``retrograde.stage`` loads the staging verb
and what it needs), so importing the package, or running ``retrograde
--version``, costs no store or template library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrograde.commands.adopting import adopt
    from retrograde.commands.applying import apply
    from retrograde.commands.context import Context, open_context
    from retrograde.commands.history import applies, blame, log_page, verify
    from retrograde.commands.locking import unlock
    from retrograde.commands.logs import Logs, logs
    from retrograde.commands.moving import mv
    from retrograde.commands.outputs import output
    from retrograde.commands.planning import graph, plan
    from retrograde.commands.reading import StateSnapshot, log, show, state
    from retrograde.commands.refresh import Refreshed, refresh
    from retrograde.commands.resume import ResumeReport, resume
    from retrograde.commands.rollback import Preview, checkpoint, checkpoints, revert, rollback
    from retrograde.commands.saved_plans import SavedPlan, save_plan
    from retrograde.commands.stackfiles import StackVars
    from retrograde.commands.staging import diff, discard, stage
    from retrograde.commands.timetravel import RevisionDiff, diff_revisions, state_at
    from retrograde.commands.transfer import export, import_
    from retrograde.commands.validating import StackProblem, Validation, validate
    from retrograde.engine.runner import ApplyReport
    from retrograde.errors import RetrogradeError
    from retrograde.model import (
        ActionName,
        ApplyStatus,
        Change,
        Commit,
        Plan,
        PlannedAction,
        ResourceState,
    )
    from retrograde.model.checkpoint import Checkpoint
    from retrograde.model.query import LogQuery
    from retrograde.model.reports import (
        AppliesPage,
        Blame,
        LogPage,
        Problem,
        TransferReport,
        VerifyReport,
    )

_EXPORTS = {
    "ActionName": "retrograde.model",
    "AppliesPage": "retrograde.model.reports",
    "ApplyReport": "retrograde.engine.runner",
    "ApplyStatus": "retrograde.model",
    "Blame": "retrograde.model.reports",
    "Change": "retrograde.model",
    "Checkpoint": "retrograde.model.checkpoint",
    "Commit": "retrograde.model",
    "Context": "retrograde.commands.context",
    "LogPage": "retrograde.model.reports",
    "Logs": "retrograde.commands.logs",
    "LogQuery": "retrograde.model.query",
    "Plan": "retrograde.model",
    "PlannedAction": "retrograde.model",
    "Preview": "retrograde.commands.rollback",
    "Problem": "retrograde.model.reports",
    "Refreshed": "retrograde.commands.refresh",
    "ResourceState": "retrograde.model",
    "ResumeReport": "retrograde.commands.resume",
    "RetrogradeError": "retrograde.errors",
    "RevisionDiff": "retrograde.commands.timetravel",
    "SavedPlan": "retrograde.commands.saved_plans",
    "StackProblem": "retrograde.commands.validating",
    "StackVars": "retrograde.commands.stackfiles",
    "StateSnapshot": "retrograde.commands.reading",
    "TransferReport": "retrograde.model.reports",
    "Validation": "retrograde.commands.validating",
    "VerifyReport": "retrograde.model.reports",
    "adopt": "retrograde.commands.adopting",
    "applies": "retrograde.commands.history",
    "apply": "retrograde.commands.applying",
    "blame": "retrograde.commands.history",
    "checkpoint": "retrograde.commands.rollback",
    "checkpoints": "retrograde.commands.rollback",
    "diff": "retrograde.commands.staging",
    "diff_revisions": "retrograde.commands.timetravel",
    "discard": "retrograde.commands.staging",
    "export": "retrograde.commands.transfer",
    "graph": "retrograde.commands.planning",
    "import_": "retrograde.commands.transfer",
    "log": "retrograde.commands.reading",
    "log_page": "retrograde.commands.history",
    "logs": "retrograde.commands.logs",
    "mv": "retrograde.commands.moving",
    "open_context": "retrograde.commands.context",
    "output": "retrograde.commands.outputs",
    "plan": "retrograde.commands.planning",
    "refresh": "retrograde.commands.refresh",
    "resume": "retrograde.commands.resume",
    "revert": "retrograde.commands.rollback",
    "rollback": "retrograde.commands.rollback",
    "save_plan": "retrograde.commands.saved_plans",
    "show": "retrograde.commands.reading",
    "stage": "retrograde.commands.staging",
    "state": "retrograde.commands.reading",
    "state_at": "retrograde.commands.timetravel",
    "unlock": "retrograde.commands.locking",
    "validate": "retrograde.commands.validating",
    "verify": "retrograde.commands.history",
}
"""Each public name and the module it comes from."""

__all__ = [
    "ActionName",
    "AppliesPage",
    "ApplyReport",
    "ApplyStatus",
    "Blame",
    "Change",
    "Checkpoint",
    "Commit",
    "Context",
    "LogPage",
    "LogQuery",
    "Logs",
    "Plan",
    "PlannedAction",
    "Preview",
    "Problem",
    "Refreshed",
    "ResourceState",
    "ResumeReport",
    "RetrogradeError",
    "RevisionDiff",
    "SavedPlan",
    "StackProblem",
    "StackVars",
    "StateSnapshot",
    "TransferReport",
    "Validation",
    "VerifyReport",
    "adopt",
    "applies",
    "apply",
    "blame",
    "checkpoint",
    "checkpoints",
    "diff",
    "diff_revisions",
    "discard",
    "export",
    "graph",
    "import_",
    "log",
    "log_page",
    "logs",
    "mv",
    "open_context",
    "output",
    "plan",
    "refresh",
    "resume",
    "revert",
    "rollback",
    "save_plan",
    "show",
    "stage",
    "state",
    "state_at",
    "unlock",
    "validate",
    "verify",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'retrograde' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
