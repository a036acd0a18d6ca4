"""Running one external command for an action and reporting it as an ActionResult.

Shared by the ``shell``, ``command`` and ``ansible`` handlers so that all have
the same timeout, environment, output and error-tail semantics: the action's
secret values are masked in the whole output before anything is cut. Both
streams are kept in the result (:func:`captured`: masked, then each capped to
:data:`OUTPUT_CAP_CHARS`, its start and end kept around a mark saying how much
was cut), for success and failure alike. The command starts in a new
session (its own process group) so that a timeout kills everything it spawned,
not only the direct child: ``subprocess.run`` would kill ``/bin/sh`` and then
wait forever on a grandchild that still holds the output pipes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

from retrograde.model.apply import ActionOutput, ActionRequest, ActionResult
from retrograde.model.masking import NO_SECRETS, SecretMask

ERROR_TAIL_CHARS = 2000
"""How much of a failed command's output is kept: the end, where the error is."""

KILL_GRACE_SECONDS = 5.0
"""How long to wait for the pipes to close once a timed-out group was killed."""

OUTPUT_CAP_CHARS = 64 * 1024
"""Characters of each stream kept per action (64 KiB of ASCII text): the first quarter
and the last three quarters of a longer one, where a failure usually explains itself."""

NO_OUTPUT: ActionOutput = {"stdout": "", "stderr": "", "truncated": False}


def success(resource: str, duration: float, output: ActionOutput | None = None) -> ActionResult:
    result: ActionResult = {
        "resource": resource,
        "ok": True,
        "exit_code": None,
        "error": "",
        "duration": duration,
    }
    if output is not None:
        result["output"] = output
    return result


def failure(
    resource: str,
    error: str,
    *,
    exit_code: int | None = None,
    duration: float = 0.0,
    output: ActionOutput | None = None,
) -> ActionResult:
    result: ActionResult = {
        "resource": resource,
        "ok": False,
        "exit_code": exit_code,
        "error": error,
        "duration": duration,
    }
    if output is not None:
        result["output"] = output
    return result


def captured(stdout: str, stderr: str, mask: SecretMask = NO_SECRETS) -> ActionOutput:
    """Both streams as a result keeps them: secrets masked first, then each capped."""
    if not stdout and not stderr:
        return {"stdout": "", "stderr": "", "truncated": False}
    out, out_cut = capped(stdout, mask)
    err, err_cut = capped(stderr, mask)
    return {"stdout": out, "stderr": err, "truncated": out_cut or err_cut}


def captured_bytes(stdout: bytes, stderr: bytes, mask: SecretMask = NO_SECRETS) -> ActionOutput:
    """:func:`captured` of a command's raw streams (decoded as UTF-8, bad bytes replaced)."""
    return captured(_text(stdout), _text(stderr), mask)


def capped(text: str, mask: SecretMask, cap: int = OUTPUT_CAP_CHARS) -> tuple[str, bool]:
    """``text`` masked, then cut to ``cap`` characters around a mark; whether it was cut.

    A text up to twice the cap is masked whole; a longer one only at its two
    ends (:meth:`SecretMask.head`, :meth:`SecretMask.tail`: as if masked whole,
    then cut), so a handler that wrote gigabytes costs no more than one that
    wrote a page.
    """
    head, tail = cap // 4, cap - cap // 4
    if len(text) <= 2 * cap:
        masked = mask(text)
        if len(masked) <= cap:
            return masked, False
        return _joined(masked[:head], masked[-tail:], len(masked) - cap), True
    return _joined(mask.head(text, head), mask.tail(text, tail), len(text) - cap), True


def _joined(head: str, tail: str, cut: int) -> str:
    return f"{head}\n[… {cut:,} characters cut …]\n{tail}"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def action_environment(context: Mapping[str, object]) -> dict[str, str]:
    """The parent's environment plus what a command needs to know about its action."""
    env = dict(os.environ)
    for variable, key in (("ACTION", "action"), ("RESOURCE", "resource"), ("APPLY_ID", "apply_id")):
        value = context.get(key)
        env[f"RETROGRADE_{variable}"] = "" if value is None else str(value)
    return env


def request_mask(request: ActionRequest) -> SecretMask:
    """The compiled mask of the secret values ``request`` carries (none for a request without)."""
    values = request.get("secrets") if isinstance(request, Mapping) else None
    if not isinstance(values, list):
        return NO_SECRETS
    return SecretMask(value for value in values if isinstance(value, str))


def error_tail(stderr: bytes, stdout: bytes, mask: SecretMask = NO_SECRETS) -> str:
    """The last ``ERROR_TAIL_CHARS`` characters of stderr, or of stdout when stderr is empty.

    Secrets are masked in the whole text before it is cut.
    """
    text = _text(stderr)
    if not text.strip():
        text = _text(stdout)
    return mask.tail(text, ERROR_TAIL_CHARS)


def run_for_action(
    argv: Sequence[str], request: ActionRequest, mask: SecretMask | None = None
) -> ActionResult:
    """Run ``argv`` for ``request``: in its ``cwd``, under its timeout, with the context.

    The command reads the context as one JSON document on stdin and finds
    ``RETROGRADE_ACTION``/``RESOURCE``/``APPLY_ID`` in its environment. Its
    failure text is masked with ``mask`` (compiled from the request if not given).
    """
    context = request["context"]
    return run_command(
        argv,
        resource=str(context.get("resource") or ""),
        cwd=request["cwd"],
        env=action_environment(context),
        stdin=json.dumps(context).encode("utf-8"),
        timeout=request["timeout"],
        mask=request_mask(request) if mask is None else mask,
    )


def run_command(
    argv: Sequence[str],
    *,
    resource: str,
    cwd: str,
    env: Mapping[str, str],
    stdin: bytes | None = None,
    timeout: float | None = None,
    mask: SecretMask = NO_SECRETS,
) -> ActionResult:
    """Run ``argv`` in ``cwd`` and report its outcome; never raises for a failing command.

    A non-zero exit is a failure carrying the exit code and the output tail; a
    timeout kills the whole process group and is a failure saying so; a command
    that cannot be started (missing ``cwd``, unexecutable file) is a failure too.
    Every failure text has ``mask`` applied before it is cut.
    """
    started = time.perf_counter()
    try:
        process = _spawn(argv, cwd=cwd, env=env, stdin=stdin)
    except OSError as exc:
        return failure(resource, mask(f"cannot start {argv[0]!r} in {cwd!r}: {exc}"))
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        return _timed_out(process, resource, timeout, mask, started)
    duration = time.perf_counter() - started
    output = captured_bytes(stdout, stderr, mask)
    if process.returncode == 0:
        return success(resource, duration, output)
    tail = error_tail(stderr, stdout, mask) or _signal_name(process.returncode)
    return failure(resource, tail, exit_code=process.returncode, duration=duration, output=output)


def _signal_name(returncode: int) -> str:
    """``killed by SIGKILL`` for a command a signal ended (a negative return code), else ``""``."""
    if returncode >= 0:
        return ""
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def _timed_out(
    process: subprocess.Popen[bytes],
    resource: str,
    timeout: float | None,
    mask: SecretMask,
    started: float,
) -> ActionResult:
    """Kill the timed-out command's group; the failure says so, with what it wrote."""
    stdout, stderr = _kill_group(process)
    tail = error_tail(stderr, stdout, mask)
    return failure(
        resource,
        f"timed out after {timeout:g} s" + (f"\n{tail}" if tail else ""),
        duration=time.perf_counter() - started,
        output=captured_bytes(stdout, stderr, mask),
    )


def _spawn(
    argv: Sequence[str], *, cwd: str, env: Mapping[str, str], stdin: bytes | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_group(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """SIGKILL the command's whole process group, reap the child, return what it wrote.

    A process that left the group (its own ``setsid``) may still hold the pipes;
    after a grace period they are closed rather than waited on.
    """
    with contextlib.suppress(ProcessLookupError):  # the group may have exited meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    try:
        return process.communicate(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        process.wait()
        return b"", b""


def kill_running_commands() -> int:
    """SIGKILL every command this process started and that still runs; return how many.

    Each command is started as the leader of its own session (so of its own
    process group), which makes the children of this process exactly the
    running commands: killing their groups takes what they started along. Their
    handlers then report them as failures (killed by signal 9) like any other.
    Linux only (``/proc``); elsewhere nothing is killed.
    """
    killed = 0
    for pid in _children():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def _children() -> set[int]:
    pids: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.scandir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"{task.path}/children") as children:
                pids.update(int(pid) for pid in children.read().split())
    return pids
