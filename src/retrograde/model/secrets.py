"""Masking of secret inputs: every output shows ``***`` where a secret's value would be."""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.model.change import Diff
from retrograde.model.jsonvalue import JSON

MASK = "***"


def mask_inputs(inputs: Mapping[str, JSON], secrets: frozenset[str]) -> dict[str, JSON]:
    return {k: (MASK if k in secrets and v is not None else v) for k, v in inputs.items()}


def mask_diff(diff: Diff, secrets: frozenset[str]) -> dict[str, dict[str, JSON]]:
    return {
        k: (
            {s: (MASK if v is not None else None) for s, v in d.items()}
            if k in secrets
            else dict(d)
        )
        for k, d in diff.items()
    }
