"""JSON views of the history verbs (``log`` pages, ``applies``, ``blame``), secrets masked.

Built on :mod:`retrograde.commands.views` so that, as everywhere, a secret
input prints as ``***``. ``verify``, ``export`` and ``import`` views are their
reports' ``to_json()``: they name revisions and resources, never values.
"""

from __future__ import annotations

from typing import Any

from retrograde.commands.views import Secrets, commit_json
from retrograde.model.reports import AppliesPage, Blame, LogPage
from retrograde.model.secrets import mask_inputs


def log_page_json(page: LogPage, secrets: Secrets) -> dict[str, Any]:
    """``log --json``: ``{"commits": [COMMIT, ...], "next": REV or null}``."""
    return {"commits": [commit_json(c, secrets) for c in page.commits], "next": page.next}


def applies_json(page: AppliesPage) -> dict[str, Any]:
    """``applies --json``: ``{"applies": [APPLY, ...], "next": ID or null}``, newest first."""
    return {"applies": [record.to_json() for record in page.applies], "next": page.next}


def blame_json(blame: Blame, secrets: Secrets) -> dict[str, Any]:
    """``blame --json``: per input, its value and the commit that last set it."""
    values = mask_inputs(blame.state.inputs, secrets.of(blame.state.type))
    inputs: dict[str, Any] = {}
    for name, value in values.items():
        commit = blame.commits.get(name)
        inputs[name] = {
            "value": value,
            "rev": commit.rev if commit else None,
            "action": commit.action.value if commit else None,
            "principal": commit.principal if commit else None,
            "timestamp": commit.timestamp if commit else None,
            "apply_id": commit.apply_id if commit else None,
            "message": commit.message if commit else None,
        }
    return {"resource": blame.resource, "type": blame.state.type, "inputs": inputs}
