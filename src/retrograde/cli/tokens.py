"""The ``token`` verb: create, list and revoke the API tokens of ``retrograde serve``."""

from __future__ import annotations

import click

from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.commands import tokens
from retrograde.model.tokens import Role


@click.group()
def token() -> None:
    """Create, list and revoke the API tokens of `retrograde serve`.

    A token's name is the principal of every apply and commit made with it;
    its role says what it may do: reader (read verbs), operator (also stage,
    plan, apply, resume, revert, rollback, checkpoint, discard) or admin
    (also tokens and unlock). Only a hash of each token is stored. These
    verbs work on the store directly: that is how the first admin token is
    made. See docs/server.md.
    """


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        tokens.parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None
    return value


@token.command()
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="What the token may do.",
)
@click.option(
    "--expires",
    callback=_duration,
    metavar="DURATION",
    help="Refuse the token after this long (30d, 12h, 1w2d). Default: never.",
)
@json_option
@pass_session
def create(session: Session, name: str, role: str, expires: str | None, as_json: bool) -> None:
    """Create token NAME and print it: the only time it is shown.

    Standard output is the bare token on one line (notes go to stderr), so
    `TOKEN=$(retrograde token create ci --role operator)` works; with --json,
    {"name", "role", "token"}.
    """
    made, secret = tokens.create_token(session.context, name, Role(role), expires=expires)
    if as_json:
        emit_json({"name": made.name, "role": made.role.value, "token": secret})
        return
    click.echo(secret)
    until = f", expires {made.expires}" if made.expires else ""
    click.echo(f"token {made.name!r} ({made.role.value}{until}): shown only now", err=True)


@token.command(name="list")
@json_option
@pass_session
def list_(session: Session, as_json: bool) -> None:
    """List tokens: name, role, created, expires, last used (never the token itself)."""
    found = tokens.list_tokens(session.context)
    if as_json:
        emit_json({"tokens": [t.to_json() for t in found]})
        return
    from rich.table import Table

    table = Table("name", "role", "created", "expires", "last used", box=None)
    for t in found:
        table.add_row(t.name, t.role.value, t.created, t.expires or "never", t.last_used or "-")
    session.out.print(table if found else "No tokens.")


@token.command()
@click.argument("name")
@json_option
@pass_session
def revoke(session: Session, name: str, as_json: bool) -> None:
    """Revoke token NAME: every request with it is refused from now on."""
    gone = tokens.revoke_token(session.context, name)
    if as_json:
        emit_json({"revoked": gone.to_json()})
    else:
        session.out.print(f"Revoked token {gone.name!r} ({gone.role.value}).")
