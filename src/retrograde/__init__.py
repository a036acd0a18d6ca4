"""retrograde: stage, apply and roll back changes to a graph of connected resources.

The same verbs as the command line, as functions taking a :class:`Context`::

    import retrograde

    with retrograde.open_context() as ctx:
        retrograde.stage(ctx, Path("stack.yaml"))
        print(retrograde.plan(ctx).to_json())
        report = retrograde.apply(ctx, message="first deployment")
"""

from retrograde.commands.applying import apply
from retrograde.commands.context import Context, open_context
from retrograde.commands.history import applies, blame, log_page, verify
from retrograde.commands.locking import unlock
from retrograde.commands.planning import graph, plan
from retrograde.commands.reading import StateSnapshot, log, show, state
from retrograde.commands.resume import ResumeReport, resume
from retrograde.commands.rollback import Preview, checkpoint, checkpoints, revert, rollback
from retrograde.commands.saved_plans import SavedPlan, save_plan
from retrograde.commands.staging import diff, discard, stage
from retrograde.commands.timetravel import RevisionDiff, diff_revisions, state_at
from retrograde.commands.transfer import export, import_
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
from retrograde.model.history import (
    AppliesPage,
    Blame,
    LogPage,
    Problem,
    TransferReport,
    VerifyReport,
)
from retrograde.model.query import LogQuery

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
    "Plan",
    "PlannedAction",
    "Preview",
    "Problem",
    "ResourceState",
    "ResumeReport",
    "RetrogradeError",
    "RevisionDiff",
    "SavedPlan",
    "StateSnapshot",
    "TransferReport",
    "VerifyReport",
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
    "open_context",
    "plan",
    "resume",
    "revert",
    "rollback",
    "save_plan",
    "show",
    "stage",
    "state",
    "state_at",
    "unlock",
    "verify",
]
