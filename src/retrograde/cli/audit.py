"""Commands that account for the history: applies, blame, verify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from retrograde.cli import completion
from retrograde.cli.session import (
    APPLY,
    Session,
    emit_json,
    json_option,
    page_options,
    pass_session,
)
from retrograde.commands import history, history_views
from retrograde.errors import CorruptLogError


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_session
def keygen(session: Session, path: Path, as_json: bool) -> None:
    """Write a new Ed25519 signing key to PATH (mode 0600) and its public key to PATH.pub.

    Never overwrites a file. Set RETROGRADE_SIGNING_KEY=PATH to sign every
    write that adds to the hash chain; give PATH.pub to `verify --trust`.
    """
    public, key_id = history.keygen(path)
    view = {"private_key": str(path), "public_key": str(public), "key_id": key_id}
    if as_json:
        emit_json(view)
    else:
        session.out.print(f"wrote {path} (private, 0600) and {public}; key id {key_id}")


@click.command()
@page_options("applies", "ID", APPLY)
@json_option
@pass_session
def applies(session: Session, before: int | None, limit: int, as_json: bool) -> None:
    """List applies, newest first: id, kind, principal, message, status, times, counts.

    Counts are the actions that succeeded (one commit each), failed and were
    skipped. Use `log --apply ID` for an apply's commits.
    """
    view = history_views.applies_json(history.applies(session.context, before=before, limit=limit))
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_applies  # text only: rich

        render_applies(session.out, view)


@click.command()
@click.argument("resource", shell_complete=completion.resources)
@json_option
@pass_session
def blame(session: Session, resource: str, as_json: bool) -> None:
    """Show, for every input of RESOURCE, the commit that last set it.

    Each input's current value (secrets masked) with the revision, action,
    time, principal, apply and message of the newest commit that changed it.
    """
    found = history.blame(session.context, resource)
    view = history_views.blame_json(found, session.secrets())
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_blame  # text only: rich

        render_blame(session.out, view)


def _head(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[int, str]]:
    """``REV:HASH`` values as ``(rev, hash)``; anything else is a usage error naming it."""
    found = []
    for value in values:
        rev, _, hash_ = value.partition(":")
        if not (rev.isdigit() and len(hash_) == 64 and all(c in "0123456789abcdef" for c in hash_)):
            raise click.BadParameter(f"{value!r}: expected REV:HASH (64 hex digits)")
        found.append((int(rev), hash_))
    return found


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=_FILE,
    metavar="PUBKEY",
    help="A public key file (keygen's PATH.pub); every apply and the head must carry "
    "a valid signature by one of these keys. Repeatable.",
)
@click.option(
    "--trust-from",
    type=click.IntRange(min=0),
    default=0,
    metavar="REV",
    help="With --trust: require signatures only of applies beginning at or after REV "
    "(for a history that began unsigned).",
)
@click.option(
    "--expect-head",
    "expect_heads",
    multiple=True,
    callback=_head,
    metavar="REV:HASH",
    help="A head kept elsewhere (verify --json's chain rev and hash) that the chain "
    "must hold. Repeatable.",
)
@click.option(
    "--witness",
    type=_FILE,
    metavar="FILE",
    help="A witness file (RETROGRADE_WITNESS): every signed head in it must be in the "
    "chain, so a cut-off tail is caught.",
)
@json_option
@pass_session
def verify(
    session: Session,
    trust: tuple[Path, ...],
    trust_from: int,
    expect_heads: list[tuple[int, str]],
    witness: Path | None,
    as_json: bool,
) -> None:
    """Check the commit log and committed state for tampering or damage.

    Recomputes the hash of every commit and chain entry (type definitions,
    checkpoints, apply records) from its content and the previous hash,
    checks that revisions have no gaps and times never go back, replays the
    whole log and compares the result with committed state (and with each
    stored snapshot), and compares stored records with their chain entries.
    Signatures of chain heads must match the chain; with --trust they must
    also be by a trusted key and cover every apply. Says whether the store is
    signed. Reads a batch at a time. Exits 1 naming the first problem.
    """
    report = history.verify(
        session.context,
        trust=trust,
        trust_from=trust_from,
        expect_heads=expect_heads,
        witness=witness,
    )
    if as_json:
        emit_json(report.to_json())
        if not report.ok:
            sys.exit(1)
        return
    from retrograde.cli.render_history import render_verify  # text only: rich

    render_verify(session.out, report.to_json())
    if not report.ok:
        first = report.problems[0]
        raise CorruptLogError(f"verify failed: {first}", rev=first.rev, resource=first.resource)
