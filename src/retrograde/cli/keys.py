"""``rekey``: rotate the store's key file."""

from __future__ import annotations

from pathlib import Path

import click

from retrograde.cli.session import Session, emit_json, json_option, pass_session


@click.command()
@click.option(
    "--new-key",
    "new_key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use this key file (made, 0600, if missing) and leave the old one as it is.",
)
@json_option
@pass_session
def rekey(session: Session, new_key: Path | None, as_json: bool) -> None:
    """Wrap the store's secret data key under a new key file; no stored value or hash changes.

    Without --new-key a fresh key replaces the key file in place and the old
    one is kept beside it as a backup (<name>.old-<time>). The current key
    file must be present. See docs/security.md.
    """
    from retrograde.commands.secret_keys import rekey as rekey_store

    done = rekey_store(session.context, new_key)
    if as_json:
        emit_json(done.to_json())
        return
    click.echo(f"rekeyed: the store's key file is now {done.key_file}")
    if done.backup is not None:
        click.echo(f"the old key file is kept as {done.backup}")
