"""Secrets in handler output: a failing handler that prints a secret leaks it nowhere.

Each test runs the attack itself with real handlers (``/bin/sh``, a Python
module on ``sys.path``), then reads every place a failure ends up: ``apply``
text, ``apply --json``, ``applies --json``, ``log --json`` and the raw rows of
``applies.failures`` and ``apply_tasks.error``, read with SQLAlchemy.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from retrograde.engine.requests import action_request
from retrograde.model.change import make_change
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, InputSpec, ResourceType
from retrograde.storage.sql.database import normalise_url
from tests.commands.stacks import write
from tests.conftest import Invoke

NASTY = 'it\'s "a" \\back $HOME `id` p\u00e4ssw\u00f6rd'
"""A secret with quotes, backslashes, ``$``, a backquote and non-ASCII letters."""

PIN = 48151623
"""A secret that is a number."""

LEAKY_SHELL = (
    "cat >&2; printf 'pw=%s pin=%s\\n' {{ inputs.password }} {{ inputs.pin }} >&2;"
    " : {{ inputs.password }} '{{ inputs.password }}' \"{{ inputs.password }}\";"
    " tr '\\0' ' ' < /proc/$$/cmdline >&2; exit 1"
)
"""Echoes its stdin JSON, prints the values, then its own command line, which holds the
values shell-quoted for each place (as ``ps`` would show them)."""


def stack(password: str, pin: int, update: str = LEAKY_SHELL) -> str:
    """A ``vault`` resource whose ``run`` fails loudly and whose ``update`` runs ``update``."""
    return f"""
types:
  vault:
    version: 1
    inputs:
      password: {{type: string, secret: true}}
      pin: {{type: integer, secret: true}}
      host: {{type: string}}
    actions:
      run: {{shell: {json.dumps(LEAKY_SHELL)}}}
      update: {{shell: {json.dumps(update)}}}
resources:
  vault: {{type: vault, inputs: {{password: {json.dumps(password)}, pin: {pin}, host: db1}}}}
"""


def test_a_failing_shell_handler_leaks_no_secret(
    invoke: Invoke, store_url: str, tmp_path: Path
) -> None:
    """stdin JSON, printed values and sh's own quoted echo are masked in every output and row."""
    path = write(tmp_path, "stack.yaml", stack(NASTY, PIN))
    outputs = failing_outputs(invoke, path)
    assert "db1" in outputs[1], "the plain input is still shown"
    assert_masked(outputs, store_url, [NASTY, str(PIN)])


def test_a_previous_secret_is_masked_after_an_update(
    invoke: Invoke, store_url: str, tmp_path: Path
) -> None:
    """An update whose handler prints its stdin shows neither the old secret nor the new one."""
    old, new = "old-Secret-1", "new-Secret-2"
    first = write(tmp_path, "v1.yaml", stack(old, PIN).replace(json.dumps(LEAKY_SHELL), "'true'"))
    assert invoke("apply", str(first), "--yes").exit_code == 0
    second = write(tmp_path, "v2.yaml", stack(new, PIN + 1))
    outputs = failing_outputs(invoke, second)
    assert '\\"previous\\": {' in outputs[1], "the handler did print its stdin document"
    assert_masked(outputs, store_url, [old, new, str(PIN), str(PIN + 1)])


PYTHON_ACTIONS = """
def fail_with_message(context):
    inputs = context["inputs"]
    raise RuntimeError(f"bad password {inputs['password']}")


def fail_with_repr(context):
    raise ValueError(context["inputs"])
"""


@pytest.mark.parametrize("function", ["fail_with_message", "fail_with_repr"])
def test_a_python_exception_message_leaks_no_secret(
    invoke: Invoke,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
) -> None:
    """The exception text, as ``str`` or as the ``repr`` of a dict of inputs, shows ``***``."""
    lib = tmp_path / "pylib"
    lib.mkdir()
    (lib / f"masking_actions_{function}.py").write_text(PYTHON_ACTIONS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(lib))
    target = json.dumps(f"masking_actions_{function}:{function}")
    text_ = stack(NASTY, PIN).replace(
        f"run: {{shell: {json.dumps(LEAKY_SHELL)}}}", f"run: {{python: {target}}}"
    )
    outputs = failing_outputs(invoke, write(tmp_path, "stack.yaml", text_))
    assert "bad password ***" in outputs[1] or "'password': '***'" in outputs[1], outputs[1]
    assert_masked(outputs, store_url, [NASTY])


def vault_type(version: int, secret: str) -> ResourceType:
    """Version ``version`` of a type whose input ``secret`` is the secret one."""
    inputs = {name: InputSpec(name, secret=name == secret) for name in ("key", "token")}
    actions = {name: ActionSpec("shell", "true") for name in ("run", "update", "remove")}
    return ResourceType("vault", version, inputs, actions)


def test_a_removal_and_a_migration_carry_their_secret_values() -> None:
    """A removal's previous secret, and an input secret in either version's type, are masked."""
    types = {(t.name, t.version): t for t in (vault_type(1, "key"), vault_type(2, "token"))}
    v1 = ResourceState("vault", 1, {"key": "k-old", "token": "t-old"})
    v2 = ResourceState("vault", 2, {"key": "k-new", "token": "t-new"})
    removal = make_change("vault", v1, None)
    migration = make_change("vault", v1, v2)
    assert removal is not None and migration is not None
    assert action_request(removal, types, 1)["secrets"] == ["k-old"]
    assert action_request(migration, types, 1)["secrets"] == ["k-new", "k-old", "t-new", "t-old"]


def failing_outputs(invoke: Invoke, stack_file: Path) -> list[str]:
    """The text and JSON of two failing applies, then ``applies --json`` and ``log --json``."""
    applied = invoke("apply", str(stack_file), "--yes")
    assert applied.exit_code == 1, applied.output
    as_json = invoke("apply", "--yes", "--json")
    assert as_json.exit_code == 1, as_json.output
    failures = json.loads(as_json.output)["failures"]
    assert list(failures) == ["vault"] and failures["vault"]["error"]
    listed = invoke("applies", "--json")
    logged = invoke("log", "--json")
    return [applied.output, as_json.output, listed.output, logged.output]


def assert_masked(outputs: list[str], store_url: str, secrets: list[str]) -> None:
    """No secret in any output or stored failure text, each of which shows ``***`` instead."""
    rows = failure_rows(store_url)
    assert len(rows) >= 4, "two applies, each with its failures and its failed task"
    for shown in [*outputs[:3], *rows]:
        assert "***" in shown, shown
    for shown in [*outputs, *rows]:
        for secret in secrets:
            for form in written_forms(secret):
                assert form not in shown, (form, shown)


def written_forms(secret: str) -> set[str]:
    """The ways a handler's output can hold ``secret``: as is, JSON-escaped, shell-quoted."""
    double = "".join("\\" + c if c in '\\"$`' else c for c in secret)
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        shlex.quote(secret),
        secret.replace("'", "'\\''"),
        double,
    }


def failure_rows(store_url: str) -> list[str]:
    """``applies.failures`` and ``apply_tasks.error`` of every failed row, read with SQL."""
    engine = create_engine(normalise_url(store_url))
    try:
        with engine.connect() as conn:
            failures = conn.execute(text("SELECT failures FROM applies WHERE failed > 0"))
            errors = conn.execute(text("SELECT error FROM apply_tasks WHERE error IS NOT NULL"))
            return [str(row[0]) for row in [*failures, *errors]]
    finally:
        engine.dispose()
