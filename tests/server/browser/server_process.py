"""A real `retrograde serve` process on a free loopback port, over a store of its own.

The browser tests talk to the server as a person's browser would: over HTTP to
a separate process started with the installed `retrograde` command, stopped
with SIGTERM (then SIGKILL if it hangs) when the test ends. What it printed is
kept beside its store, and shown when it fails to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from retrograde.config import SECRET_KEY_FILE_ENV

RETROGRADE = Path(sys.executable).parent / "retrograde"
"""The installed command, from the same virtualenv as the tests."""

START_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


DEMO_KEY_ENV = "RETROGRADE_TEST_DEMO_KEY"
"""Where the demo store's secret key file is: every copy of the store (one per test, in
any xdist worker) has the same store id, so they share the one key file."""


def environment(db: Path) -> dict[str, str]:
    """The environment of the CLI and the server: this store, this virtualenv's tools first.

    Handlers run `python3` from PATH, so the virtualenv's (which has jinja2) comes first.
    """
    env = dict(os.environ)
    env["RETROGRADE_DB"] = str(db)
    if DEMO_KEY_ENV in env:
        env[SECRET_KEY_FILE_ENV] = env[DEMO_KEY_ENV]
    env["PATH"] = f"{RETROGRADE.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("RETROGRADE_PRINCIPAL", None)
    return env


def cli(db: Path, *args: str, cwd: Path | None = None) -> str:
    """Run `retrograde ARGS` on `db`; its standard output, or an assertion naming what failed."""
    done = subprocess.run(
        [str(RETROGRADE), *args],
        cwd=cwd,
        env=environment(db),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"retrograde {' '.join(args)}: {done.stderr or done.stdout}"
    return done.stdout


@dataclass
class Server:
    """A running server: its base URL (ending in "/"), store, token and process."""

    url: str
    db: Path
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ten seconds: the process never outlives its test."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_server(db: Path, token: str, workdir: Path) -> Server:
    """Start `retrograde serve` on a free port over `db`, and wait until it answers."""
    port = free_port()
    stacks = workdir / "stacks"
    stacks.mkdir(exist_ok=True)
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RETROGRADE), "serve", "--port", str(port), "--stacks-dir", str(stacks)],
            cwd=workdir,
            env=environment(db),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}/", db, token, process, log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"retrograde serve exited {process.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"retrograde serve did not answer in {START_SECONDS}s: {log.read_text()}")
