"""Confirming a plan by its digest: what a client was shown is what runs, or nothing does.

A client that cannot answer a prompt (the HTTP API) reads the plan with its
digest (:func:`plan_with_digest`) and applies with that digest: the apply's
confirmation (:func:`confirmed_by_digest`, run under the store lock) compares it
with the digest of what is staged then, and refuses with
:class:`PlanDigestError` before anything runs when the staged log moved.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

from retrograde.commands.applying import Confirm
from retrograde.commands.context import Context
from retrograde.commands.planning import selected
from retrograde.errors import PlanDigestError
from retrograde.memory import gc_paused
from retrograde.model.change import Change
from retrograde.model.plan import Plan
from retrograde.planning.digest import plan_digest
from retrograde.planning.selection import TagPairs
from retrograde.planning.targeting import Targeting


def plan_with_digest(
    ctx: Context,
    *,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> tuple[Plan, str]:
    """The plan for the staged log (or its selected part) and its digest, from one read."""
    with gc_paused():
        with ctx.store.read() as tx:
            changes, moves = tx.staged.load(), tx.staged.moves()
        plan, chosen = selected(changes, Targeting.of(targets, tags, exclude), moves)
        return plan, plan_digest(plan, chosen)


def confirmed_by_digest(expected: str) -> Confirm:
    """A confirmation that says yes only to the plan whose digest is ``expected``."""

    def confirm(plan: Plan, changes: Mapping[str, Change]) -> bool:
        found = plan_digest(plan, changes)
        if not hmac.compare_digest(found.encode(), expected.encode("utf-8", "replace")):
            raise PlanDigestError(expected, found)
        return True

    return confirm
