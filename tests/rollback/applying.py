"""Applying stacks and staged logs in the rollback tests, asserting that each apply succeeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import retrograde
from tests.rollback.stacks import write


def apply_text(
    ctx: retrograde.Context, directory: Path, text: str, message: str = ""
) -> retrograde.ApplyReport:
    """Stage ``text`` as a new stack file in ``directory`` and apply it; it must succeed."""
    name = f"stack-{len(list(directory.glob('stack-*.yaml')))}.yaml"
    report = retrograde.apply(ctx, write(directory, name, text), message=message)
    assert report.status is retrograde.ApplyStatus.SUCCEEDED, report.failures
    return report


def apply_staged(ctx: retrograde.Context, message: str = "") -> retrograde.ApplyReport:
    """Apply the staged log (e.g. what a revert staged); it must succeed."""
    report = retrograde.apply(ctx, message=message)
    assert report.status is retrograde.ApplyStatus.SUCCEEDED, report.failures
    return report


def state_json(ctx: retrograde.Context) -> dict[str, Any]:
    """Committed state as plain JSON, for exact comparisons."""
    return {name: rs.to_json() for name, rs in retrograde.state(ctx).resources.items()}


def rev_of(ctx: retrograde.Context, report: retrograde.ApplyReport, resource: str) -> int:
    """The revision of ``resource``'s commit in the apply ``report`` describes."""
    return next(
        c.rev
        for c in retrograde.log(ctx)
        if c.apply_id == report.apply_id and c.resource == resource
    )
