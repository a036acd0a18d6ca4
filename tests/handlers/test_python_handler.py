"""The python handler calls module:function from a real module file with the context."""

from __future__ import annotations

import importlib
import itertools
import textwrap
from pathlib import Path

import pytest

from retrograde.handlers.python import PythonHandler

from .conftest import ATTACKS, RequestFactory

_module_numbers = itertools.count()

ACTIONS_SOURCE = """
received = []

def record(context):
    received.append(context)

def refuse(context):
    return {"ok": False, "error": "port already taken"}

def agree(context):
    return {"ok": True, "note": "anything but ok=False is success"}

def explode(context):
    raise ValueError("bad ip " + context["inputs"]["ip"])

def quit(context):
    raise SystemExit(3)

class Deploy:
    @staticmethod
    def run(context):
        received.append(("Deploy.run", context["resource"]))

not_callable = 42
"""


@pytest.fixture
def actions_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh importable module (unique name) holding the action functions above."""
    name = f"retrograde_test_actions_{next(_module_numbers)}"
    package_dir = tmp_path / "pylib"
    package_dir.mkdir()
    (package_dir / f"{name}.py").write_text(textwrap.dedent(ACTIONS_SOURCE))
    monkeypatch.syspath_prepend(str(package_dir))
    return name


@pytest.fixture
def python() -> PythonHandler:
    return PythonHandler()


def test_function_receives_the_context(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """The function is called once with the request's context document."""
    request = make_request("python", f"{actions_module}:record", inputs={"ip": "10.0.0.1"})
    result = python.run(request)
    assert result == {
        "resource": "web",
        "ok": True,
        "exit_code": None,
        "error": "",
        "duration": result["duration"],
        "output": {"stdout": "", "stderr": "", "truncated": False},
    }
    assert importlib.import_module(actions_module).received == [request["context"]]


def test_dotted_attribute_target(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """A target may name an attribute path such as ``Class.method``."""
    assert python.run(make_request("python", f"{actions_module}:Deploy.run"))["ok"]
    assert importlib.import_module(actions_module).received == [("Deploy.run", "web")]


def test_returned_ok_false_is_a_failure(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """Returning ``{"ok": False, "error": ...}`` fails the action with that error."""
    result = python.run(make_request("python", f"{actions_module}:refuse"))
    assert not result["ok"]
    assert result["error"] == "port already taken"


def test_other_return_values_are_success(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """A returned dict without ``ok: False`` does not fail the action."""
    assert python.run(make_request("python", f"{actions_module}:agree"))["ok"]


def test_exception_becomes_failure_with_type_and_message(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """An exception in user code is a failure value naming its type, message and frame."""
    result = python.run(make_request("python", f"{actions_module}:explode", inputs={"ip": "x"}))
    assert not result["ok"]
    assert result["exit_code"] is None
    assert result["error"].startswith("ValueError: bad ip x\n")
    assert "in explode" in result["error"]


def test_system_exit_in_user_code_is_a_failure(
    python: PythonHandler, make_request: RequestFactory, actions_module: str
) -> None:
    """sys.exit in an action function fails the action instead of ending the worker."""
    result = python.run(make_request("python", f"{actions_module}:quit"))
    assert not result["ok"]
    assert result["error"].startswith("SystemExit: 3")


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("no_colon_here", "not 'module:function'"),
        ("retrograde_no_such_module_xyz:run", "ModuleNotFoundError"),
        ("{module}:missing", "AttributeError"),
        ("{module}:not_callable", "not callable"),
    ],
)
def test_bad_target_is_a_failure_naming_it(
    python: PythonHandler,
    make_request: RequestFactory,
    actions_module: str,
    target: str,
    problem: str,
) -> None:
    """A target that cannot be imported or called fails the action and names the target."""
    target = target.format(module=actions_module)
    result = python.run(make_request("python", target))
    assert not result["ok"]
    assert repr(target) in result["error"]
    assert problem in result["error"]


def test_target_that_failed_to_load_is_retried(
    python: PythonHandler, make_request: RequestFactory, tmp_path: Path, actions_module: str
) -> None:
    """A failed import is not cached: once the module exists, the same target works."""
    name = f"{actions_module}_late"
    request = make_request("python", f"{name}:record")
    assert not python.run(request)["ok"]
    (tmp_path / "pylib" / f"{name}.py").write_text(textwrap.dedent(ACTIONS_SOURCE))
    importlib.invalidate_caches()
    assert python.run(request)["ok"]


@pytest.mark.parametrize("value", ATTACKS)
def test_an_injection_string_arrives_as_data(
    python: PythonHandler,
    make_request: RequestFactory,
    actions_module: str,
    tmp_path: Path,
    value: str,
) -> None:
    """A value that would be shell syntax reaches the function unchanged and runs nothing."""
    request = make_request("python", f"{actions_module}:record", inputs={"ip": value})
    assert python.run(request)["ok"]
    (received,) = importlib.import_module(actions_module).received
    assert received["inputs"] == {"ip": value}
    assert not (tmp_path / "PWNED").exists()


def test_two_stack_directories_with_a_module_of_the_same_name_each_get_their_own(
    tmp_path: Path, python: PythonHandler, make_request: RequestFactory
) -> None:
    """Modules are cached by name per process; a second stack's ``sameactions.py`` must not
    be answered with the first stack's (a server or a library caller runs many stacks)."""
    results = []
    for label in ("first", "second"):
        directory = tmp_path / label
        directory.mkdir()
        (directory / "sameactions.py").write_text(
            f"def run(context):\n    return {{'ok': False, 'error': {label!r}}}\n"
        )
        request = make_request("python", "sameactions:run", cwd=directory)
        results.append(python.run(request)["error"])
    assert results == ["first", "second"]
