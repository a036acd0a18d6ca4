"""Verbs that search and check the history: log pages, applies, blame, verify.

Every answer comes from the store's indexes (see
:mod:`retrograde.storage.repositories`); nothing here reads the whole log.
:func:`parse_moment` turns what an operator types for ``--since``/``--until``
(a timestamp as the log prints it, or ``2h``, ``3d``, ``1d12h`` ago) into the
stored timestamp form.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.locking import settle_interrupted
from retrograde.errors import NotFoundError
from retrograde.model.apply import ApplyRecord
from retrograde.model.numbers import check_number
from retrograde.model.query import LogQuery
from retrograde.model.reports import AppliesPage, Blame, LogPage, VerifyReport
from retrograde.storage.signing import keygen as signing_keygen
from retrograde.storage.signing import load_public, read_witness

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How the log stores timestamps (:func:`retrograde.clock.utc_now`)."""

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RELATIVE = re.compile(r"(?:\d+[smhdw])+")
_PART = re.compile(r"(\d+)([smhdw])")


def log_page(ctx: Context, query: LogQuery | None = None) -> LogPage:
    """One page of commits matching ``query``, newest first, with the next page's cursor.

    An apply id or revision bound no store can hold (beyond 64 bits) is a
    :class:`NotFoundError` naming it.
    """
    wanted = query or LogQuery()
    _check_query(wanted)
    with ctx.store.read() as tx:
        found = tx.log.search(dataclasses.replace(wanted, limit=wanted.limit + 1))
    page = tuple(found[: wanted.limit])
    more = len(found) > wanted.limit and bool(page)
    return LogPage(commits=page, next=page[-1].rev if more else None)


def applies(ctx: Context, *, before: int | None = None, limit: int = 50) -> AppliesPage:
    """Applies, newest first: who, why, status, when and how many actions of each outcome.

    Only applies with ids below ``before`` when given; the page's ``next`` is
    the ``before`` of the following page (None on the last). An apply whose
    process died is shown ``interrupted``, never ``running``.
    """
    if before is not None:
        check_number("apply", before, minimum=0)
    settle_interrupted(ctx)
    with ctx.store.read() as tx:
        found = tx.applies.page(before=before, limit=limit + 1)
    page = tuple(found[:limit])
    more = len(found) > limit and bool(page)
    return AppliesPage(applies=page, next=page[-1].id if more else None)


def apply_record(ctx: Context, apply_id: int) -> ApplyRecord:
    """One apply: who, why, status, when and its counts (never ``running`` for a dead one)."""
    check_number("apply", apply_id)
    settle_interrupted(ctx)
    with ctx.store.read() as tx:
        return tx.applies.get(apply_id)


def blame(ctx: Context, resource: str) -> Blame:
    """For each input of ``resource``, the commit that last set it (who, when, which apply)."""
    with ctx.store.read() as tx:
        state = tx.state.load([resource]).get(resource)
        if state is None:
            raise NotFoundError("resource", resource)
        found = tx.log.blame(resource, state.inputs)
    return Blame(resource, state, {name: found.get(name) for name in state.inputs})


def verify(
    ctx: Context,
    *,
    trust: Sequence[Path] = (),
    trust_from: int = 0,
    expect_heads: Sequence[tuple[int, str]] = (),
    witness: Path | None = None,
) -> VerifyReport:
    """Recompute the hash chain, replay the log, and compare it with committed state.

    ``trust``: public key files; every apply beginning at or after rev ``trust_from``, and
    the head, must then carry a valid signature by one of them. ``expect_heads``
    (``(rev, hash)``) and the signed heads of the ``witness`` file must be in the chain.
    """
    keys = frozenset(load_public(path) for path in trust) if trust else None
    heads = [("--expect-head", rev, hash_) for rev, hash_ in expect_heads]
    if witness is not None:
        heads += [(f"witness {witness}", s.point.rev, s.point.hash) for s in read_witness(witness)]
    with ctx.store.read() as tx:
        from retrograde.history.verify import Trust, verify_log  # only this verb walks the log

        return verify_log(tx, Trust(keys, trust_from, tuple(heads)))


def keygen(path: Path) -> tuple[Path, str]:
    """Write a new Ed25519 key pair: PATH (private, 0600) and PATH.pub; (public path, key id)."""
    return signing_keygen(path)


def parse_moment(text: str, now: datetime, *, end: bool = False) -> str:
    """The stored-form timestamp that ``text`` means at ``now``; ``ValueError`` if none.

    ``text`` is a duration ago (``15m``, ``2h``, ``3d``, ``1w``, or several
    such as ``1d12h``) or an ISO 8601 date or time (``2026-11-25``,
    ``2026-11-25 15:35``, ``2026-11-25T15:35:56.123456Z``; no zone means
    UTC). With ``end`` (for ``--until``), a time given to the second, minute
    or day stands for the whole of it, so ``--until`` with a time the log
    prints includes the commits of that second. A time outside the years 1
    to 9999 (``99999999999d`` ago) is a ``ValueError`` too.
    """
    try:
        return _stamp(_moment(text.strip(), now, end))
    except OverflowError:
        raise ValueError(f"{text!r} is too far from now: times run from year 1 to 9999") from None


def _moment(cleaned: str, now: datetime, end: bool) -> datetime:
    if _RELATIVE.fullmatch(cleaned):
        return now - _duration(cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{cleaned!r} is neither a time like 2026-11-25T15:35:56Z nor a duration like 2h"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end:
        moment += _precision(cleaned) - timedelta(microseconds=1)
    return moment


def _check_query(query: LogQuery) -> None:
    if query.apply_id is not None:
        check_number("apply", query.apply_id)
    for rev in (query.rev_from, query.rev_to, query.before_rev):
        if rev is not None:
            check_number("revision", rev, minimum=0)


def _duration(text: str) -> timedelta:
    total = timedelta()
    for amount, unit in _PART.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def _precision(text: str) -> timedelta:
    """The span a written time covers: a day, an hour, a minute, a second, or only itself."""
    clock = re.split(r"[T ]", text, maxsplit=1)[1] if re.search(r"[T ]", text) else ""
    clock = re.split(r"[Z+-]", clock, maxsplit=1)[0]
    if not clock:
        return timedelta(days=1)
    if "." in clock:
        return timedelta(microseconds=1)
    spans = (timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1))
    return spans[min(clock.count(":"), 2)]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)
