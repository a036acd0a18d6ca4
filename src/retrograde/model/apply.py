"""Applies: one execution of a plan, its lifecycle and what each action came to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

from retrograde.model.jsonvalue import JSON


class ApplyStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


TRANSITIONS: Mapping[ApplyStatus, frozenset[ApplyStatus]] = {
    ApplyStatus.RUNNING: frozenset(
        {ApplyStatus.SUCCEEDED, ApplyStatus.FAILED, ApplyStatus.INTERRUPTED}
    ),
    ApplyStatus.INTERRUPTED: frozenset({ApplyStatus.RUNNING, ApplyStatus.FAILED}),
    ApplyStatus.SUCCEEDED: frozenset(),
    ApplyStatus.FAILED: frozenset(),
}
"""Allowed status changes; anything else is a bug."""


class ApplyKind(StrEnum):
    """What made an apply's commits: a run of a plan, or a verb that runs no handler."""

    APPLY = "apply"
    MIGRATE = "migrate"
    OBSERVE = "observe"
    MOVE = "move"
    ADOPT = "adopt"


def can_transition(current: ApplyStatus, new: ApplyStatus) -> bool:
    return new in TRANSITIONS[current]


class ActionRequest(TypedDict):
    """What crosses the executor boundary into a handler (plain JSON)."""

    handler: str
    target: str
    cwd: str
    timeout: float | None
    context: dict[str, JSON]
    """The handler's stdin document: action, resource, type, inputs, previous, diff, apply_id."""
    secrets: list[str]
    """The texts of the action's secret values, masked in whatever the handler reports
    (see :mod:`retrograde.model.masking`); empty when it has none."""
    queue: NotRequired[str | None]
    """Where a remote executor sends the action (None: its default queue)."""
    queue_timeout: NotRequired[float | None]
    """How long the action may wait to be taken by a worker (None: its ``timeout``)."""
    files: NotRequired[list[str]]
    """The type's handler files, relative to ``cwd``, that a worker's copy must match."""
    secret_inputs: NotRequired[list[str]]
    """The names of the action's secret inputs: a remote executor sends their values (in
    ``inputs``, ``previous`` and both sides of ``diff``) sealed, never in clear."""


class ActionOutput(TypedDict):
    """What a handler wrote, secrets masked first, then each stream capped (plain JSON)."""

    stdout: str
    stderr: str
    truncated: bool
    """Whether either stream was cut to its cap (its middle replaced by a mark saying so)."""


class ActionResult(TypedDict):
    """What comes back from a handler; failures are values, never exceptions."""

    resource: str
    ok: bool
    exit_code: int | None
    error: str
    """For a failure: the stderr tail or the exception text, secrets masked; empty on success."""
    duration: float
    output: NotRequired[ActionOutput]
    """What the handler wrote, when it ran something that writes (kept by the store)."""
    withdrawn: NotRequired[bool]
    """True when the executor took the action back before any handler began (the run was
    interrupted): it never ran, and the runner leaves it ``pending`` for ``resume``."""
    observed: NotRequired[dict[str, JSON]]
    """For a ``read`` action whose handler reports values rather than printing them (the
    object a python function returned, the facts an ansible playbook set)."""


class HandlerOutputJSON(TypedDict):
    """One entry of ``logs --json``."""

    rev: int | None
    apply_id: int
    resource: str
    attempt: int
    ok: bool
    stdout: str
    stderr: str
    truncated: bool
    dropped: bool


@dataclass(frozen=True, slots=True)
class HandlerOutput:
    """The kept output of one attempt of one action: beside its commit (``rev``) or its failure.

    ``dropped`` means the store no longer holds the text (the store-wide cap
    removed the oldest output): ``stdout`` and ``stderr`` are then empty.
    """

    apply_id: int
    resource: str
    attempt: int
    ok: bool
    rev: int | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    dropped: bool = False

    def to_json(self) -> HandlerOutputJSON:
        return {
            "rev": self.rev,
            "apply_id": self.apply_id,
            "resource": self.resource,
            "attempt": self.attempt,
            "ok": self.ok,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "truncated": self.truncated,
            "dropped": self.dropped,
        }


class ApplyRecordJSON(TypedDict):
    """One apply in ``applies --json``."""

    id: int
    principal: str
    message: str
    status: str
    started_at: str
    ended_at: str | None
    succeeded: int
    failed: int
    skipped: int
    failures: dict[str, JSON]
    kind: str


APPLY_FIELDS = (
    "id",
    "principal",
    "message",
    "status",
    "started_at",
    "ended_at",
    "succeeded",
    "failed",
    "skipped",
    "failures",
    "host",
    "pid",
    "kind",
)
"""The columns of an apply record as exported and imported (``failures`` as JSON; a record
exported before apply kinds existed has no ``kind`` and is an ``apply``)."""


@dataclass(frozen=True, slots=True)
class ApplyRecord:
    """The stored record of an apply; ``kind`` says what made its commits (see
    :class:`ApplyKind`)."""

    id: int
    principal: str
    message: str
    status: ApplyStatus
    started_at: str
    ended_at: str | None = None
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    failures: Mapping[str, JSON] = field(default_factory=dict)
    kind: ApplyKind = ApplyKind.APPLY

    def to_json(self) -> ApplyRecordJSON:
        return {
            "id": self.id,
            "principal": self.principal,
            "message": self.message,
            "status": self.status.value,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "failures": dict(self.failures),
            "kind": self.kind.value,
        }
