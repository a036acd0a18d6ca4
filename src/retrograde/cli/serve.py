"""The ``serve`` command: the HTTP API (and web page) over this store."""

from __future__ import annotations

import os
from pathlib import Path

import click

from retrograde.cli.session import Session, pass_session

SERVER_BUSY_TIMEOUT = "5"
"""Seconds a server's write waits for another process's SQLite transaction (unless
RETROGRADE_BUSY_TIMEOUT says otherwise): a request should fail fast, naming the holder."""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8421, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--cert", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="TLS certificate."
)
@click.option(
    "--key", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="TLS private key."
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow a non-loopback --host without TLS (e.g. behind a TLS-terminating proxy).",
)
@click.option(
    "--root-path",
    default="",
    metavar="P",
    help="The path prefix a reverse proxy serves the app under (e.g. /retrograde).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="IPS",
    help="Proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated, or *).",
)
@click.option(
    "--stacks-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where uploaded stacks are kept (default: .retrograde/stacks here).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Print a line per request on standard output (off: less CPU per request).",
)
@pass_session
def serve(
    session: Session,
    host: str,
    port: int,
    cert: Path | None,
    key: Path | None,
    insecure: bool,
    root_path: str,
    forwarded_allow_ips: str,
    stacks_dir: Path | None,
    access_log: bool,
) -> None:
    """Serve the HTTP API (and web page) over this store (see docs/server.md).

    Every request needs a token (`retrograde token create`); the token's name
    is the principal of what it does. A --host other than loopback needs
    --cert and --key, or --insecure. SIGTERM or Ctrl-C stops the server; a
    running apply is left interrupted, for `resume`.
    """
    try:
        from retrograde.server.serving import Listen, check_listen
        from retrograde.server.serving import serve as run
        from retrograde.server.settings import ServerSettings
    except ImportError as error:
        raise click.UsageError(
            f"serve needs the server extra: pip install 'retrograde[server]' ({error.name})"
        ) from None
    listen = Listen(
        host,
        port,
        cert,
        key,
        insecure,
        root_path.rstrip("/"),
        forwarded_allow_ips,
        access_log,
    )
    check_listen(listen)
    os.environ.setdefault("RETROGRADE_BUSY_TIMEOUT", SERVER_BUSY_TIMEOUT)
    ctx = session.context
    root = (stacks_dir or Path(".retrograde") / "stacks").resolve()
    settings = ServerSettings(stacks_root=root, serialise_writes=ctx.store.url.startswith("sqlite"))
    run(ctx.store, settings, listen)
