"""Response and request models: the documented ``--json`` shapes, as the OpenAPI document says.

Routes return their JSON already rendered (by the same views the CLI uses),
so these models describe responses for the document and for clients; they are
not run over every response. Every model allows fields it does not name:
shapes may gain fields, never lose or rename them (docs/json.md).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Diff = dict[str, dict[str, Any]]
"""Per input, ``{"from": X, "to": Y}``."""


class Shape(BaseModel):
    """A JSON shape that may gain fields."""

    model_config = ConfigDict(extra="allow")


class Request(BaseModel):
    """A request body: unknown fields are ignored (a ``principal`` among them: the token is)."""

    model_config = ConfigDict(extra="ignore")


class ErrorDetail(Shape):
    kind: str
    message: str


class ErrorBody(Shape):
    """``{"error": {"kind", "message", ...fields}}``, as under ``--json``."""

    error: ErrorDetail


class Commit(Shape):
    rev: int
    apply_id: int | None
    resource: str
    action: str
    diff: Diff
    reverse: Diff
    connections: dict[str, Any]
    tags: dict[str, Any]
    type: str
    version: int
    principal: str
    timestamp: str
    message: str
    reverts: list[int]
    hash: str


class LogPage(Shape):
    commits: list[Commit]
    next: int | None


class ResourceState(Shape):
    type: str
    version: int
    inputs: dict[str, Any]
    connections: dict[str, Any]
    tags: dict[str, str]


class State(Shape):
    rev: int
    resources: dict[str, ResourceState]


class Change(Shape):
    action: str
    diff: Diff


class StagedMove(Shape):
    """A staged rename, committed by apply before every change (no handler)."""

    resource: str = Field(description="The name after the move.")
    action: Literal["move"]
    from_: str = Field(alias="from", description="The name before the move.")


class Changes(Shape):
    changes: dict[str, Change]
    moves: list[StagedMove] | None = Field(
        default=None, description="Present when renames are staged, in the order applied."
    )


class Staged(Changes):
    migrations: list[Commit]


class Revision(Shape):
    rev: int
    checkpoint: str | None


class RevisionDiff(Changes):
    from_: Revision = Field(alias="from")
    to: Revision


class PlannedAction(Shape):
    resource: str
    action: str
    after: list[str]


class Plan(Shape):
    actions: list[PlannedAction]
    moves: list[StagedMove] | None = Field(
        default=None, description="Present when renames are staged: committed before actions."
    )


class DigestedPlan(Plan):
    plan_digest: str = Field(description="Pass to POST /api/apply: it runs only this plan.")


class Preview(Shape):
    staged: bool
    reverts: list[int]
    target: Revision | None
    changes: dict[str, Change]
    plan: Plan


class ApplyRecord(Shape):
    id: int
    principal: str
    message: str
    status: str
    started_at: str
    ended_at: str | None
    succeeded: int
    failed: int
    skipped: int
    failures: dict[str, Any]


class AppliesPage(Shape):
    applies: list[ApplyRecord]
    next: int | None


class ApplyReport(Shape):
    apply_id: int | None
    status: str
    commits: list[int]
    failed: list[str]
    skipped: list[str]
    failures: dict[str, Any]
    attempts: dict[str, int]


class Accepted(Shape):
    """A job began: follow ``events`` (server-sent events) to its report."""

    apply_id: int
    status: Literal["running"]
    events: str


class BlameInput(Shape):
    value: Any
    rev: int | None
    action: str | None
    principal: str | None
    timestamp: str | None
    apply_id: int | None
    message: str | None


class Blame(Shape):
    resource: str
    type: str
    inputs: dict[str, BlameInput]


class HandlerOutput(Shape):
    rev: int | None
    apply_id: int
    resource: str
    attempt: int
    ok: bool
    stdout: str
    stderr: str
    truncated: bool
    dropped: bool


class Logs(Shape):
    logs: list[HandlerOutput]


class Checkpoint(Shape):
    name: str
    rev: int
    description: str
    principal: str
    timestamp: str


class Checkpoints(Shape):
    checkpoints: list[Checkpoint]


class Problem(Shape):
    kind: str
    rev: int | None
    resource: str | None
    detail: str


class Head(Shape):
    rev: int
    hash: str


class Verify(Shape):
    ok: bool
    commits: int
    head: Head
    resources: int
    problems: list[Problem]


class InputDrift(Shape):
    committed: Any
    observed: Any


class Refreshed(Shape):
    """``refresh --json``."""

    drift: dict[str, dict[str, InputDrift]]
    failed: dict[str, str]
    observed: list[int]
    staged: list[str]


class Discarded(Shape):
    discarded: list[str]


class LockHolder(Shape):
    activity: str
    principal: str
    host: str
    pid: int
    since: str
    apply_id: int | None


class Released(Shape):
    released: LockHolder | None


class TokenInfo(Shape):
    name: str
    role: str
    created: str
    expires: str | None
    last_used: str | None


class Tokens(Shape):
    tokens: list[TokenInfo]


class TokenCreated(Shape):
    name: str
    role: str
    token: str = Field(description="The secret: shown only in this answer.")


class Revoked(Shape):
    revoked: TokenInfo


class SessionInfo(Shape):
    name: str
    role: str
    csrf: str = Field(description="Send as X-Retrograde-CSRF with every write.")
    expires: str


class SignedOut(Shape):
    signed_out: bool


class ApplyRequest(Request):
    plan_digest: str = Field(max_length=200, description="The plan_digest of GET /api/plan.")
    message: str = Field("", max_length=10_000)
    jobs: int = Field(4, ge=1, le=256)


class ResumeRequest(Request):
    jobs: int = Field(4, ge=1, le=256)


MAX_REV = 2**63 - 1


class RevertRequest(Request):
    revs: list[int] = Field(default_factory=list, max_length=10_000)
    apply_id: int | None = Field(None, ge=1, le=MAX_REV)
    force: bool = False
    preview: bool = Field(False, description="Show what would be staged; stage nothing.")


class RollbackRequest(Request):
    target: str = Field(min_length=1, max_length=300, description="A checkpoint or revision.")
    resources: list[str] = Field(default_factory=list, max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=1000, description="KEY=VALUE")
    preview: bool = Field(False, description="Show what would be staged; stage nothing.")


class CheckpointRequest(Request):
    name: str = Field(min_length=1, max_length=300)
    at: int | None = Field(None, ge=0, le=MAX_REV)
    message: str = Field("", max_length=10_000)


class RefreshRequest(Request):
    resources: list[str] = Field(default_factory=list, max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=1000, description="KEY=VALUE")
    exclude: list[str] = Field(default_factory=list, max_length=100_000)
    accept: bool = Field(False, description="Record the observed values as observe commits.")
    restore: bool = Field(False, description="Record them, then stage the way back.")
    message: str = Field("", max_length=10_000)


class DiscardRequest(Request):
    resources: list[str] = Field(default_factory=list, max_length=100_000)


class UnlockRequest(Request):
    force: bool = False


class TokenRequest(Request):
    name: str = Field(min_length=1, max_length=300)
    role: Literal["reader", "operator", "admin"]
    expires: str | None = Field(None, max_length=50, description="30d, 12h, 1w2d")
