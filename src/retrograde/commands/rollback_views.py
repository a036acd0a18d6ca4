"""JSON views of revert, rollback, checkpoints and revision diffs (the documented ``--json``).

Built on :mod:`retrograde.commands.views`, so secret inputs print as ``***``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from retrograde.commands.rollback import Preview
from retrograde.commands.timetravel import Revision, RevisionDiff
from retrograde.commands.views import ChangeView, Secrets, changes_json
from retrograde.model.checkpoint import Checkpoint, CheckpointJSON
from retrograde.model.plan import PlanJSON


class RevisionView(TypedDict):
    """A resolved target revision and the checkpoint that named it (or null)."""

    rev: int
    checkpoint: str | None


MoveView = TypedDict("MoveView", {"from": str | None, "to": str})
"""A rename back that a revert or rollback committed before staging its changes."""


class PreviewView(TypedDict):
    """``revert --json`` / ``rollback --json``."""

    changes: dict[str, ChangeView]
    staged: bool
    reverts: list[int]
    target: RevisionView | None
    plan: PlanJSON
    moves: list[MoveView]


class CheckpointsView(TypedDict):
    """``checkpoints --json``."""

    checkpoints: list[CheckpointJSON]


RevisionDiffView = TypedDict(
    "RevisionDiffView",
    {"from": RevisionView, "to": RevisionView, "changes": dict[str, ChangeView]},
)
"""``diff --from X --to Y --json``: the ``diff --json`` shape plus both revisions."""


def revision_json(revision: Revision) -> RevisionView:
    return {"rev": revision.rev, "checkpoint": revision.checkpoint}


def preview_json(preview: Preview, secrets: Secrets) -> PreviewView:
    """``revert --json`` / ``rollback --json``: what was staged and the plan it leads to."""
    return {
        "staged": preview.staged,
        "reverts": list(preview.reverts),
        "target": revision_json(preview.target) if preview.target else None,
        "changes": changes_json(preview.changes, secrets)["changes"],
        "plan": preview.plan.to_json(),
        "moves": [{"from": c.moved_from, "to": c.resource} for c in preview.moves],
    }


def checkpoints_json(checkpoints: Sequence[Checkpoint]) -> CheckpointsView:
    """``checkpoints --json``."""
    return {"checkpoints": [checkpoint.to_json() for checkpoint in checkpoints]}


def revision_diff_json(diff: RevisionDiff, secrets: Secrets) -> RevisionDiffView:
    """``diff --from X --to Y --json``: the ``diff --json`` shape plus both revisions."""
    return {
        "from": revision_json(diff.old),
        "to": revision_json(diff.new),
        "changes": changes_json(diff.changes, secrets)["changes"],
    }
