"""Masking of secret inputs: every output shows ``***`` where a secret's value would be."""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.model.change import Diff
from retrograde.model.jsonvalue import JSON

MASK = "***"

SECRET_PLACEHOLDER = "<secret: put the real value here>"
"""What ``state --stack`` writes for a secret's value: plainly not a value, and refused by
``stage`` (like :data:`MASK`) so that no printed stack can overwrite a secret with it."""


def is_masked(value: JSON) -> bool:
    """Whether ``value`` is (or a list holding) the mask or the placeholder, not a secret."""
    if isinstance(value, str):
        return value in (MASK, SECRET_PLACEHOLDER)
    if isinstance(value, list):
        return any(is_masked(item) for item in value)
    return False


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
