"""Digests of staged work: one per resource's change, one for a whole plan.

A person confirms a plan, a saved plan file records one: before anything
runs, the digest of what is staged now is compared with the confirmed one, so
the work that runs is exactly the work that was shown. Digests cover every
field of each change (values included, secrets as stored) but reveal none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
    """SHA-256 over the plan's actions and the digest of every change it acts on."""
    return digest_of(plan.to_json()["actions"], change_digests(changes))


def digest_of(actions: list[Any], digests: Mapping[str, str]) -> str:
    """:func:`plan_digest` from the actions' JSON and the change digests alone.

    A saved plan file holds exactly these (never a value), so its digest can
    be checked from the file itself.
    """
    digest = hashlib.sha256(canonical({"actions": actions}).encode("utf-8"))
    for name, value in sorted(digests.items()):
        digest.update(f"\n{name}\t{value}".encode())
    return digest.hexdigest()


def differing(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Resources whose change digest differs between two digest maps (added or gone too)."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
