"""Handlers report what they wrote: masked first, then capped, for success and failure alike."""

from __future__ import annotations

import itertools
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from retrograde.handlers.process import OUTPUT_CAP_CHARS, capped
from retrograde.handlers.python import PythonHandler
from retrograde.handlers.shell import ShellHandler
from retrograde.model.masking import SecretMask

from .conftest import RequestFactory

_numbers = itertools.count()

PRINTING = """
import sys
import threading

both_started = threading.Barrier(2, timeout=10)

def chatty(context):
    print("hello from", context["resource"], "with", context["inputs"]["password"])
    print("careful", file=sys.stderr)

def together(context):
    both_started.wait()
    for _ in range(200):
        print(context["resource"])

def failing(context):
    print("half done")
    raise RuntimeError("gave up")
"""


@pytest.fixture
def printing_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"retrograde_test_printing_{next(_numbers)}"
    directory = tmp_path / "printing"
    directory.mkdir()
    (directory / f"{name}.py").write_text(textwrap.dedent(PRINTING))
    monkeypatch.syspath_prepend(str(directory))
    return name


def test_shell_output_is_masked_on_success(make_request: RequestFactory) -> None:
    """Both streams of a successful command are kept, its secret masked in them."""
    request = make_request(
        "shell",
        "echo 'token=hunter22'; echo warn >&2",
        inputs={"token": "hunter22"},
        secrets=["hunter22"],
    )
    result = ShellHandler().run(request)
    assert result["ok"] is True
    assert result["output"] == {"stdout": "token=***\n", "stderr": "warn\n", "truncated": False}


def test_python_output_is_captured_per_action(
    printing_module: str, make_request: RequestFactory
) -> None:
    """What a function prints is its action's output, with its secret masked."""
    request = make_request(
        "python", f"{printing_module}:chatty", inputs={"password": "pw-123"}, secrets=["pw-123"]
    )
    result = PythonHandler().run(request)
    assert result["output"] == {
        "stdout": "hello from web with ***\n",
        "stderr": "careful\n",
        "truncated": False,
    }


def test_concurrent_python_actions_keep_their_own_output(
    printing_module: str, make_request: RequestFactory
) -> None:
    """Two functions printing at once on two threads each get only their own lines, and the
    process's streams are given back afterwards."""
    before = sys.stdout, sys.stderr
    handler = PythonHandler()
    requests = [make_request("python", f"{printing_module}:together", resource=n) for n in "ab"]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(handler.run, requests))
    for name, result in zip("ab", results, strict=True):
        assert set(result["output"]["stdout"].split()) == {name}
        assert len(result["output"]["stdout"].split()) == 200
    assert (sys.stdout, sys.stderr) == before


def test_a_failing_functions_output_is_kept(
    printing_module: str, make_request: RequestFactory
) -> None:
    """A raising function fails with its exception, and what it printed before is kept."""
    result = PythonHandler().run(make_request("python", f"{printing_module}:failing"))
    assert result["ok"] is False
    assert result["error"].startswith("RuntimeError: gave up")
    assert result["output"]["stdout"] == "half done\n"


def test_masking_comes_before_the_cap() -> None:
    """A secret that straddles where the cap cuts is masked, never half shown."""
    secret = "S" * 40
    head = OUTPUT_CAP_CHARS // 4
    text = "x" * (head - 20) + secret + "y" * (3 * OUTPUT_CAP_CHARS)
    kept, cut = capped(text, SecretMask([secret]))
    assert cut is True
    assert "S" not in kept
    assert kept.startswith("x" * (head - 20) + "***")
    assert kept.endswith("y" * 100)
