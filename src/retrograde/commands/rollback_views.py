"""JSON views of revert, rollback, checkpoints and revision diffs (the documented ``--json``).

Built on :mod:`retrograde.commands.views`, so secret inputs print as ``***``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from retrograde.commands.rollback import Preview
from retrograde.commands.timetravel import Revision, RevisionDiff
from retrograde.commands.views import Secrets, changes_json
from retrograde.model.checkpoint import Checkpoint


def revision_json(revision: Revision) -> dict[str, Any]:
    return {"rev": revision.rev, "checkpoint": revision.checkpoint}


def preview_json(preview: Preview, secrets: Secrets) -> dict[str, Any]:
    """``revert --json`` / ``rollback --json``: what was staged and the plan it leads to."""
    return {
        "staged": preview.staged,
        "reverts": list(preview.reverts),
        "target": revision_json(preview.target) if preview.target else None,
        **changes_json(preview.changes, secrets),
        "plan": preview.plan.to_json(),
        "moves": [{"from": c.moved_from, "to": c.resource} for c in preview.moves],
    }


def checkpoints_json(checkpoints: Sequence[Checkpoint]) -> dict[str, Any]:
    """``checkpoints --json``."""
    return {"checkpoints": [checkpoint.to_json() for checkpoint in checkpoints]}


def revision_diff_json(diff: RevisionDiff, secrets: Secrets) -> dict[str, Any]:
    """``diff --from X --to Y --json``: the ``diff --json`` shape plus both revisions."""
    return {
        "from": revision_json(diff.old),
        "to": revision_json(diff.new),
        **changes_json(diff.changes, secrets),
    }
