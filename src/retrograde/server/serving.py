"""Running the app on uvicorn: where it listens, TLS, a reverse proxy, and shutdown.

Listening beyond loopback without TLS is refused unless asked for
(``insecure``): tokens would cross the network in clear. Behind a reverse
proxy, ``root_path`` is the path prefix the proxy serves the app under, and
``X-Forwarded-For``/``-Proto`` are believed from ``forwarded_allow_ips`` only
(uvicorn's proxy headers). SIGTERM or Ctrl-C first cancels the running
applies (they finish their in-flight actions and are left ``interrupted``),
then stops the server.

Before listening, the API document is built (which makes FastAPI build its
routes, otherwise built by the first request) and what startup allocated is
frozen out of the garbage collector's reach (``gc.freeze``), so that neither
the first answer nor any later collection pays for them.
"""

from __future__ import annotations

import gc
import ipaddress
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from retrograde.errors import InsecureListenError
from retrograde.server.app import create_app
from retrograde.server.settings import ServerSettings
from retrograde.storage.base import Store

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how the server listens."""

    host: str = "127.0.0.1"
    port: int = 8421
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False
    root_path: str = ""
    forwarded_allow_ips: str = "127.0.0.1"
    access_log: bool = True


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(listen: Listen) -> None:
    """Refuse a non-loopback address without TLS unless ``insecure``; TLS needs both files."""
    if (listen.cert is None) != (listen.key is None):
        raise InsecureListenError("TLS needs both --cert and --key")
    if listen.cert is None and not listen.insecure and not is_loopback(listen.host):
        raise InsecureListenError(
            f"refusing to listen on {listen.host} without TLS: tokens would cross the network "
            "in clear; give --cert and --key, or --insecure (e.g. behind a TLS proxy)"
        )


class _Server(uvicorn.Server):
    """uvicorn's server, cancelling the running applies at the first exit signal."""

    def __init__(self, config: uvicorn.Config, cancel: Callable[[str], None]) -> None:
        super().__init__(config)
        self._cancel = cancel

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._cancel(signal.Signals(sig).name)
        super().handle_exit(sig, frame)


def serve(store: Store, settings: ServerSettings, listen: Listen) -> None:
    """Serve ``store`` until SIGTERM or Ctrl-C (see the module docstring)."""
    check_listen(listen)
    app = create_app(store, settings)
    app.openapi()  # FastAPI builds its routes on first use: here rather than in a request
    gc.freeze()  # what startup made lives as long as the process: no collection scans it
    config = uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        ssl_certfile=str(listen.cert) if listen.cert else None,
        ssl_keyfile=str(listen.key) if listen.key else None,
        root_path=listen.root_path,
        proxy_headers=True,
        forwarded_allow_ips=listen.forwarded_allow_ips,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_level="info",
        access_log=listen.access_log,
        server_header=False,
    )
    _Server(config, app.state.retrograde.jobs.cancel_all).run()
