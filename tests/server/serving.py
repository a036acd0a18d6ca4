"""A real ``retrograde serve`` process: started on a free port, waited for, stopped."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.durability import processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_token(store_url: str, cwd: Path, name: str, role: str) -> str:
    """``token create NAME --role ROLE``: stdout's only line is the token."""
    done = processes.run(store_url, cwd, "token", "create", name, "--role", role)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rg_"), done.stdout
    return lines[0]


def wait_up(base: str, process: subprocess.Popen[str]) -> None:
    """Wait until the server answers (401: it is up and authenticating)."""
    deadline = time.monotonic() + processes.WAIT_SECONDS
    while True:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"serve ended ({process.returncode}):\n{out}\n{err}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/api/state", timeout=1).status_code == 401:
                return
        assert time.monotonic() < deadline, "serve did not come up"
        time.sleep(0.1)


@contextlib.contextmanager
def serving(store_url: str, cwd: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``retrograde --db STORE serve --port P ARGS`` running; yields its base URL and process."""
    port = free_port()
    process = processes.spawn(store_url, cwd, "serve", "--port", str(port), *args)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=processes.WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                processes.kill(process)
