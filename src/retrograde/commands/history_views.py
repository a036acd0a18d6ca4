"""JSON views of the history verbs (``log`` pages, ``applies``, ``blame``), secrets masked.

Built on :mod:`retrograde.commands.views` so that, as everywhere, a secret
input prints as ``***``. ``verify``, ``export`` and ``import`` views are their
reports' ``to_json()``: they name revisions and resources, never values.
"""

from __future__ import annotations

from typing import TypedDict

from retrograde.commands.views import Secrets, commit_json
from retrograde.model.apply import ApplyRecordJSON
from retrograde.model.commit import CommitJSON
from retrograde.model.jsonvalue import JSON
from retrograde.model.reports import AppliesPage, Blame, LogPage
from retrograde.model.secrets import mask_inputs


class LogPageView(TypedDict):
    """``log --json``: one page of commits and the cursor of the next (or null)."""

    commits: list[CommitJSON]
    next: int | None


class AppliesPageView(TypedDict):
    """``applies --json``: one page of apply records, newest first, and the next cursor."""

    applies: list[ApplyRecordJSON]
    next: int | None


class BlameInputView(TypedDict):
    """One input of ``blame --json``: its value and the commit that last set it (or nulls)."""

    value: JSON
    rev: int | None
    action: str | None
    principal: str | None
    timestamp: str | None
    apply_id: int | None
    message: str | None


class BlameView(TypedDict):
    """``blame --json``."""

    resource: str
    type: str
    inputs: dict[str, BlameInputView]


def log_page_json(page: LogPage, secrets: Secrets) -> LogPageView:
    """``log --json``: ``{"commits": [COMMIT, ...], "next": REV or null}``."""
    return {"commits": [commit_json(c, secrets) for c in page.commits], "next": page.next}


def applies_json(page: AppliesPage) -> AppliesPageView:
    """``applies --json``: ``{"applies": [APPLY, ...], "next": ID or null}``, newest first."""
    return {"applies": [record.to_json() for record in page.applies], "next": page.next}


def blame_json(blame: Blame, secrets: Secrets) -> BlameView:
    """``blame --json``: per input, its value and the commit that last set it."""
    values = mask_inputs(blame.state.inputs, secrets.of(blame.state.type))
    inputs: dict[str, BlameInputView] = {}
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
