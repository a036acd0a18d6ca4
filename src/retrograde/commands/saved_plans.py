"""Saved plans: ``plan -o FILE`` writes one, ``apply FILE`` runs exactly it or refuses.

A plan file is two JSON documents, one after the other. The first line is
the header, ``{"format": "retrograde-plan", "version": 1, "checksum": ...}``,
which is how ``apply`` tells a plan file from a stack file; the rest is the
body: the committed head (revision and hash) and selection it was made from,
the ordered actions, the digest of every change they act on and the plan
digest over both (:mod:`retrograde.planning.digest`). It holds no input
value, so no secret, and is created readable by its owner only (0600).

Applying it recomputes the same plan from the store under the store lock and
refuses (:class:`StalePlanError`, naming the resources whose changes differ)
when the staged log or the committed head moved since. A file whose body no
longer matches its checksum, or whose digest does not match its own actions,
was damaged or edited: :class:`PlanFileError`. The run uses the changes in the
store, never anything from the file, so editing a file can only make it refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.planning import selected
from retrograde.errors import (
    ExcludedNeededError,
    FileAccessError,
    NotFoundError,
    PlanFileError,
    StalePlanError,
)
from retrograde.memory import gc_paused
from retrograde.model.change import ActionName, Change
from retrograde.model.jsonvalue import canonical
from retrograde.model.plan import Plan, PlannedAction, PlannedMove
from retrograde.planning.digest import change_digests, differing, digested
from retrograde.planning.selection import TagPairs
from retrograde.planning.targeting import Targeting

FORMAT = "retrograde-plan"
"""The header's ``format``: what makes a file a plan file."""
VERSION = 1
"""The plan file format this retrograde writes and reads."""
HEADER_BYTES = 4096
"""How much of a file's first line is read to decide whether it is a plan file."""


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan as saved: what it runs, what it was made from, and digests (never values)."""

    plan: Plan
    digest: str
    changes: Mapping[str, str]
    """Change digest by resource, for every action of the plan."""
    head: tuple[int, str]
    """The committed head (revision, hash) the plan was made from."""
    targeting: Targeting
    created_at: str
    principal: str

    def body_json(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "principal": self.principal,
            "head": {"rev": self.head[0], "hash": self.head[1]},
            "selection": self.targeting.to_json(),
            "digest": self.digest,
            "changes": dict(sorted(self.changes.items())),
            "actions": self.plan.to_json()["actions"],
            **({"moves": self.plan.to_json()["moves"]} if self.plan.moves else {}),
        }

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SavedPlan:
        """The plan in ``body``; ``KeyError``/``TypeError``/``ValueError`` when malformed."""
        actions = tuple(
            PlannedAction(a["resource"], ActionName(a["action"]), tuple(a["after"]))
            for a in body["actions"]
        )
        moves = tuple(PlannedMove.from_json(move) for move in body.get("moves", ()))
        return cls(
            plan=Plan(actions, moves),
            digest=str(body["digest"]),
            changes={str(name): str(value) for name, value in body["changes"].items()},
            head=(int(body["head"]["rev"]), str(body["head"]["hash"])),
            targeting=Targeting.from_json(body["selection"]),
            created_at=str(body["created_at"]),
            principal=str(body["principal"]),
        )


def save_plan(
    ctx: Context,
    path: Path,
    *,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> SavedPlan:
    """Write the plan for the staged log (or its selected part) to ``path``, mode 0600.

    The staged log and the head are read in one transaction, so the file
    describes one consistent moment. ``path`` is relative to ``ctx.cwd``; an
    existing file is replaced whole (never left half written).
    """
    targeting = Targeting.of(targets, tags, exclude)
    with gc_paused():
        with ctx.store.read() as tx:
            changes, moves = tx.staged.load(), tx.staged.moves()
            head = tx.log.head()
        plan, chosen = selected(changes, targeting, moves)
        digests = change_digests(chosen)
    saved = SavedPlan(
        plan=plan,
        digest=digested(plan, digests),
        changes=digests,
        head=head,
        targeting=targeting,
        created_at=utc_now(),
        principal=ctx.principal,
    )
    _write(ctx.cwd / path, _file_text(saved), str(path))
    return saved


def _file_text(saved: SavedPlan) -> str:
    body = saved.body_json()
    header = {"format": FORMAT, "version": VERSION, "checksum": _checksum(body)}
    return json.dumps(header) + "\n" + json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def _checksum(body: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(dict(body)).encode("utf-8")).hexdigest()


def _write(target: Path, text: str, shown: str) -> None:
    """``text`` into ``target`` through a 0600 temporary file beside it, then renamed."""
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise FileAccessError("plan file", shown, error.strerror or str(error)) from error
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise FileAccessError("plan file", shown, error.strerror or str(error)) from error


def is_plan_file(path: Path) -> bool:
    """Whether ``path``'s first line is a plan file header (an unreadable file is not)."""
    try:
        with path.open("rb") as file:
            first = file.readline(HEADER_BYTES)
        header = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT


def read_plan_file(path: Path, shown: str) -> SavedPlan:
    """The saved plan in ``path``; :class:`PlanFileError` when it is not one this reads.

    Refused: another format version, a body that is not the one its header's
    checksum names, and a plan digest that does not match the file's own
    actions and change digests (the marks of an edited or damaged file).
    """
    try:
        header_line, _, rest = path.read_text(encoding="utf-8").partition("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise FileAccessError("plan file", shown, str(error), verb="read") from error
    header, body = _parse(header_line, rest, shown)
    if header.get("version") != VERSION:
        raise PlanFileError(
            shown, f"format version {header.get('version')!r} is not {VERSION}, which this reads"
        )
    if header.get("checksum") != _checksum(body):
        raise PlanFileError(shown, "it was edited or damaged: its checksum does not match")
    try:
        saved = SavedPlan.from_body(body)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PlanFileError(shown, f"it is damaged: {error!r} is missing or wrong") from error
    if digested(saved.plan, saved.changes) != saved.digest:
        raise PlanFileError(shown, "it was edited or damaged: its digest does not match it")
    return saved


def _parse(header_line: str, rest: str, shown: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header, body = json.loads(header_line), json.loads(rest)
    except ValueError as error:
        raise PlanFileError(shown, f"it is damaged: {error}") from error
    if not isinstance(header, dict) or not isinstance(body, dict):
        raise PlanFileError(shown, "it is damaged: header or body is not a JSON object")
    return header, body


def saved_work(
    saved: SavedPlan,
    shown: str,
    staged: Mapping[str, Change],
    head: tuple[int, str],
    moves: Sequence[Change] = (),
) -> tuple[Plan, dict[str, Change]]:
    """The plan ``saved`` names, made from ``staged`` at ``head``, and its changes.

    :class:`StalePlanError` unless it is exactly the saved plan: same head,
    same actions in the same order, same change digests. A selection that no
    longer fits the staged log (a target gone) is refused the same way.
    """
    try:
        plan, changes = selected(staged, saved.targeting, moves)
    except (NotFoundError, ExcludedNeededError):
        digests = change_digests({n: staged[n] for n in saved.changes if n in staged})
        raise StalePlanError(
            shown, differing(saved.changes, digests), head=saved.head, head_now=head
        ) from None
    digests = change_digests(changes)
    same_work = digested(plan, digests) == saved.digest
    if not same_work or head != saved.head:
        gone = differing(saved.changes, digests)
        raise StalePlanError(shown, gone, head=saved.head, head_now=head)
    return plan, changes
