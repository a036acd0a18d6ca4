"""The shell handler runs rendered command templates through a real /bin/sh."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from retrograde.handlers.process import ERROR_TAIL_CHARS
from retrograde.handlers.shell import ShellHandler

from .conftest import RequestFactory


@pytest.fixture
def shell() -> ShellHandler:
    return ShellHandler()


def process_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until_gone(pid: int, deadline_seconds: float = 10.0) -> bool:
    """Poll until the process is gone; the deadline only keeps a broken kill from hanging."""
    deadline = time.monotonic() + deadline_seconds
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not process_alive(pid)


def test_command_renders_inputs_and_writes_file_in_cwd(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """Inputs are rendered into the command, which runs in the request's cwd."""
    request = make_request(
        "shell",
        "echo '{{ inputs.ip }}:{{ inputs.port }} {{ action }} {{ resource }}' > out.txt",
        inputs={"ip": "10.0.0.1", "port": 5000},
    )
    result = shell.run(request)
    assert result["ok"], result
    assert result["resource"] == "web"
    assert result["error"] == ""
    assert (tmp_path / "out.txt").read_text() == "10.0.0.1:5000 run web\n"


def test_update_renders_previous_and_diff(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """An update's template can read the previous inputs and the diff."""
    request = make_request(
        "shell",
        "echo '{{ previous.ip }}->{{ inputs.ip }} {{ diff.ip.to }} {{ apply_id }}' > out.txt",
        action="update",
        inputs={"ip": "10.0.0.2"},
        previous={"ip": "10.0.0.1"},
    )
    assert shell.run(request)["ok"]
    assert (tmp_path / "out.txt").read_text() == "10.0.0.1->10.0.0.2 10.0.0.2 7\n"


def test_stdin_is_the_context_as_json(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """The command reads exactly the context document on stdin."""
    request = make_request(
        "shell", "cat > ctx.json", inputs={"ip": "10.0.0.1", "tags": ["a", "é"], "n": None}
    )
    assert shell.run(request)["ok"]
    assert json.loads((tmp_path / "ctx.json").read_text()) == request["context"]


def test_environment_names_the_action_and_keeps_the_parent_env(
    shell: ShellHandler,
    make_request: RequestFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RETROGRADE_* variables are set on top of the parent's environment."""
    monkeypatch.setenv("RETROGRADE_TEST_PARENT", "inherited")
    command = (
        'printf "%s|%s|%s|%s" "$RETROGRADE_ACTION" "$RETROGRADE_RESOURCE" '
        '"$RETROGRADE_APPLY_ID" "$RETROGRADE_TEST_PARENT" > env.txt'
    )
    request = make_request("shell", command, action="remove", resource="db1")
    assert shell.run(request)["ok"]
    assert (tmp_path / "env.txt").read_text() == "remove|db1|7|inherited"


def test_nonzero_exit_is_failure_with_code_and_stderr(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """A non-zero exit fails with its exit code and what the command wrote to stderr."""
    result = shell.run(make_request("shell", "echo ignored; echo 'disk full' >&2; exit 3"))
    assert not result["ok"]
    assert result["exit_code"] == 3
    assert result["error"] == "disk full\n"
    assert result["duration"] >= 0


def test_a_command_killed_by_a_signal_says_which(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """A command that dies of a signal and wrote nothing fails naming the signal."""
    result = shell.run(make_request("shell", "kill -TERM $$"))
    assert not result["ok"]
    assert result["exit_code"] == -15
    assert result["error"] == "killed by SIGTERM"


def test_long_stderr_is_cut_to_its_tail(shell: ShellHandler, make_request: RequestFactory) -> None:
    """Only the last characters of a long stderr are kept, where the error usually is."""
    command = "head -c 5000 /dev/zero | tr '\\0' x >&2; printf 'THE-END' >&2; exit 1"
    result = shell.run(make_request("shell", command))
    assert not result["ok"]
    assert len(result["error"]) == ERROR_TAIL_CHARS
    assert result["error"].endswith("xxxTHE-END")


def test_stdout_is_the_error_when_stderr_is_empty(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """A command that reports its failure on stdout still gets an error text."""
    result = shell.run(make_request("shell", "echo 'failed on stdout'; exit 4"))
    assert result["exit_code"] == 4
    assert result["error"] == "failed on stdout\n"


def test_timeout_kills_the_whole_process_group(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A timed-out command and the children it started are killed, and the failure says so."""
    command = "sleep 30 & echo $! > child.pid; wait"
    result = shell.run(make_request("shell", command, timeout=0.5))
    assert not result["ok"]
    assert result["exit_code"] is None
    assert "timed out after 0.5 s" in result["error"]
    assert result["duration"] < 20
    child = int((tmp_path / "child.pid").read_text())
    assert wait_until_gone(child)


def test_undefined_template_variable_is_a_failure_value(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A misspelt input fails the action, naming the resource, and runs nothing."""
    request = make_request("shell", "touch ran; echo {{ inputs.missing }}", inputs={"ip": "x"})
    result = shell.run(request)
    assert not result["ok"]
    assert "'web'" in result["error"]
    assert "missing" in result["error"]
    assert not (tmp_path / "ran").exists()


def test_null_inputs_of_a_remove_cannot_be_read(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """A remove's template that reads inputs (null for a remove) is a failure value."""
    request = make_request(
        "shell", "echo {{ inputs.ip }}", action="remove", previous={"ip": "10.0.0.1"}
    )
    result = shell.run(request)
    assert not result["ok"]
    assert "template error" in result["error"]


def test_template_syntax_error_is_a_failure_value(
    shell: ShellHandler, make_request: RequestFactory
) -> None:
    """A template that does not parse fails the action with the template problem."""
    result = shell.run(make_request("shell", "echo {{ inputs.ip ", resource="db1"))
    assert not result["ok"]
    assert result["error"].startswith("resource 'db1': command template error (line 1)")


def test_missing_cwd_is_a_failure_value(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A working directory that does not exist fails the action instead of raising."""
    result = shell.run(make_request("shell", "true", cwd=tmp_path / "nowhere"))
    assert not result["ok"]
    assert "nowhere" in result["error"]


def test_same_template_renders_each_context(
    shell: ShellHandler, make_request: RequestFactory, tmp_path: Path
) -> None:
    """A reused (cached) template still renders each request's own inputs."""
    for ip in ("10.0.0.1", "10.0.0.2"):
        request = make_request("shell", "echo {{ inputs.ip }} >> ips.txt", inputs={"ip": ip})
        assert shell.run(request)["ok"]
    assert (tmp_path / "ips.txt").read_text() == "10.0.0.1\n10.0.0.2\n"
