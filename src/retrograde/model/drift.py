"""The JSON shapes of drift: ``refresh --json`` and the ``refresh`` part of ``plan --refresh``."""

from __future__ import annotations

from typing import TypedDict

from retrograde.model.jsonvalue import JSON


class InputDriftJSON(TypedDict):
    """One drifted input: its committed and observed value (secrets masked)."""

    committed: JSON
    observed: JSON


class RefreshJSON(TypedDict):
    """``refresh --json``: resource -> input -> drift, failed reads, what was written."""

    drift: dict[str, dict[str, InputDriftJSON]]
    failed: dict[str, str]
    observed: list[int]
    """The revisions of the ``observe`` commits written (``--accept``, ``--restore``)."""
    staged: list[str]
    """The resources whose changes were staged after them."""
