"""Real ``retrograde`` processes for the durability tests: spawn, wait for a marker, kill."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "retrograde.cli.main"]
WAIT_SECONDS = 30.0


def environment(**extra: str) -> dict[str, str]:
    """The parent's environment, principal ``tester``, no fault unless asked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROGRADE_")}
    env["RETROGRADE_PRINCIPAL"] = "tester"
    env.update(extra)
    return env


def spawn(store_url: str, cwd: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start ``retrograde --db STORE ARGS`` in ``cwd``; its output is captured."""
    return subprocess.Popen(
        [*CLI, "--db", store_url, *args],
        cwd=cwd,
        env=environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(store_url: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``retrograde --db STORE ARGS`` in ``cwd`` to the end."""
    return subprocess.run(
        [*CLI, "--db", store_url, *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(store_url: str, cwd: Path, *args: str, **env: str) -> dict[str, Any]:
    """Run a command with ``--json`` and parse what it printed."""
    done = run(store_url, cwd, *args, "--json", **env)
    assert done.stdout, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until ``path`` exists; fail (with the process's output) if the process ends first."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"process ended ({process.returncode}) first:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process and reap it (a zombie would still look alive)."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=WAIT_SECONDS)


def kill_group_in(pid_file: Path) -> None:
    """SIGKILL the process group whose leader's pid is in ``pid_file`` (a handler's shell)."""
    with contextlib.suppress(ProcessLookupError, FileNotFoundError, ValueError):
        os.killpg(int(pid_file.read_text().strip()), signal.SIGKILL)
