"""Digests of staged work: one per resource's change, one for a whole plan.

A person confirms a plan, a saved plan file records one: before anything
runs, the digest of what is staged now is compared with the confirmed one, so
the work that runs is exactly the work that was shown. Digests cover every
field of each change (values included, secrets as stored) but reveal none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from retrograde.model.change import Change
from retrograde.model.jsonvalue import canonical
from retrograde.model.plan import Plan


def change_digests(changes: Mapping[str, Change]) -> dict[str, str]:
    """SHA-256 of each change's canonical JSON, by resource."""
    return {
        name: hashlib.sha256(canonical(change.to_json()).encode("utf-8")).hexdigest()
        for name, change in changes.items()
    }


def plan_digest(plan: Plan, changes: Mapping[str, Change]) -> str:
    """SHA-256 over the plan's staged moves and actions and the digest of every change it
    acts on."""
    return digested(plan, change_digests(changes))


def digested(plan: Plan, digests: Mapping[str, str]) -> str:
    """:func:`plan_digest` from ``plan`` and the change ``digests`` (as a saved plan holds)."""
    shown = plan.to_json()
    return digest_of(shown["actions"], digests, shown.get("moves", ()))


def digest_of(
    actions: list[Any], digests: Mapping[str, str], moves: Sequence[Mapping[str, str]] = ()
) -> str:
    """:func:`plan_digest` from the actions' JSON, the change digests and the staged moves'
    JSON alone (a plan without moves digests as before moves could be staged).

    A saved plan file holds exactly these (never a value), so its digest can
    be checked from the file itself.
    """
    head: dict[str, Any] = (
        {"actions": actions, "moves": list(moves)} if moves else {"actions": actions}
    )
    digest = hashlib.sha256(canonical(head).encode("utf-8"))
    for name, value in sorted(digests.items()):
        digest.update(f"\n{name}\t{value}".encode())
    return digest.hexdigest()


def differing(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Resources whose change digest differs between two digest maps (added or gone too)."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
