"""refresh and adopt with secret inputs, on both stores: reads get plaintext, and what they
observe is compared in plaintext, shown masked and committed sealed.

The ``vault`` type's ``run`` writes its secret ``password`` to ``path``; its
``read`` keeps what it was given (the template value and the stdin context)
in ``seen-*.txt`` and prints the file's content back as the password.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import retrograde
from retrograde.model.sealed import is_sealed
from tests import store_calls
from tests.conftest import Invoke
from tests.drift.stacks import quoted
from tests.secrets.vault import raw_store

SECRET = "Kept-s3cret-4711"
CHANGED = "Hand-set-s3cret-0815"

WRITE = "printf %s {{ inputs.password }} > {{ inputs.path }}"
READ = (
    "printf %s {{ inputs.password }} > seen-template.txt && cat > seen-stdin.json && "
    "python3 -c 'import json, sys; print(json.dumps("
    '{"password": open(sys.argv[1]).read()}))\' {{ inputs.path }}'
)

PYTHON_READ = """
import json
from pathlib import Path


def read(context):
    path = Path(context["inputs"]["path"])
    path.with_name("seen-python.txt").write_text(context["inputs"]["password"])
    return {"password": path.read_text()}
"""


def _stack(directory: Path, password: str = SECRET, *, read: str | None = None) -> Path:
    action = read or f"{{shell: {quoted(READ)}}}"
    stack = directory / "stack.yaml"
    stack.write_text(
        f"""
types:
  vault:
    version: 1
    inputs:
      path: {{type: string}}
      password: {{type: string, secret: true}}
    actions:
      run: {{shell: {quoted(WRITE)}}}
      update: {{shell: {quoted(WRITE)}}}
      read: {action}
resources:
  vault: {{type: vault, inputs: {{path: {directory / "vault.txt"}, password: {password}}}}}
"""
    )
    return stack


def _json(invoke: Invoke, *args: str) -> tuple[int, dict]:
    result = invoke(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def _deployed(invoke: Invoke, tmp_path: Path) -> None:
    _stack(tmp_path)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    assert (tmp_path / "vault.txt").read_text() == SECRET


def _stored_password(store_url: str) -> object:
    with retrograde.open_context(store_url) as ctx:
        return store_calls.load_state(ctx.store)["vault"].inputs["password"]


def _opened_password(store_url: str) -> object:
    with retrograde.open_context(store_url) as ctx:
        stored = store_calls.load_state(ctx.store)["vault"].inputs["password"]
        assert is_sealed(stored), stored
        return ctx.keys.box().open("vault", "password", stored)


def test_a_read_gets_the_secret_in_plaintext_and_an_unchanged_one_is_no_drift(
    invoke: Invoke, tmp_path: Path
) -> None:
    """The read's template value and stdin hold the plaintext, as run's do; same value: exit 0."""
    _deployed(invoke, tmp_path)
    assert _json(invoke, "refresh") == (
        0,
        {"drift": {}, "failed": {}, "observed": [], "staged": []},
    )
    assert (tmp_path / "seen-template.txt").read_text() == SECRET
    stdin = json.loads((tmp_path / "seen-stdin.json").read_text())
    assert stdin["inputs"]["password"] == SECRET and stdin["previous"]["password"] == SECRET
    assert invoke("refresh").exit_code == 0


def test_a_python_read_gets_the_secret_in_plaintext(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A python read function is given the plaintext too; the library reports no drift."""
    (tmp_path / "secret_reader.py").write_text(PYTHON_READ)
    retrograde.apply(ctx, _stack(tmp_path, read='{python: "secret_reader:read"}'))
    found = retrograde.refresh(ctx)
    assert (found.drift, found.failed) == ({}, {})
    assert (tmp_path / "seen-python.txt").read_text() == SECRET


def test_a_drifted_secret_is_masked_on_both_sides(invoke: Invoke, tmp_path: Path) -> None:
    """Text and JSON show *** for both values: neither plaintext nor ciphertext."""
    _deployed(invoke, tmp_path)
    (tmp_path / "vault.txt").write_text(CHANGED)
    code, view = _json(invoke, "refresh")
    assert code == 2
    assert view["drift"] == {"vault": {"password": {"committed": "***", "observed": "***"}}}
    text = invoke("refresh")
    assert text.exit_code == 2 and "vault  drifted (1 input(s))" in text.stdout
    for shown in (json.dumps(view), text.stdout):
        assert SECRET not in shown and CHANGED not in shown and "$sealed" not in shown


def test_a_drifted_secret_in_the_library_result_is_masked(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """refresh's result holds no plaintext of a secret either."""
    retrograde.apply(ctx, _stack(tmp_path))
    (tmp_path / "vault.txt").write_text(CHANGED)
    drift = retrograde.refresh(ctx).drift["vault"]["password"]
    assert (drift.committed, drift.observed) == ("***", "***")


def test_accept_seals_the_observed_secret(invoke: Invoke, tmp_path: Path, store_url: str) -> None:
    """--accept commits the observed value sealed: nowhere in clear, opened it is that value,
    and the next refresh finds no drift."""
    _deployed(invoke, tmp_path)
    (tmp_path / "vault.txt").write_text(CHANGED)
    code, view = _json(invoke, "refresh", "--accept")
    assert code == 0 and view["observed"] == [2] and view["staged"] == []
    assert CHANGED.encode() not in raw_store(store_url)
    assert _opened_password(store_url) == CHANGED
    commit = json.loads(invoke("show", "2", "--json").stdout)
    assert commit["action"] == "observe"
    assert commit["diff"] == {"password": {"from": "***", "to": "***"}}
    assert _json(invoke, "refresh")[0] == 0
    assert (tmp_path / "seen-template.txt").read_text() == CHANGED
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True
    assert _json(invoke, "stage", str(_stack(tmp_path, CHANGED)))[1]["changes"] == {}


def test_restore_stages_the_committed_secret_back(
    invoke: Invoke, tmp_path: Path, store_url: str
) -> None:
    """--restore keeps the committed ciphertext for the way back; apply writes the old value."""
    _deployed(invoke, tmp_path)
    stored = _stored_password(store_url)
    (tmp_path / "vault.txt").write_text(CHANGED)
    code, view = _json(invoke, "refresh", "--restore")
    assert code == 0 and view["staged"] == ["vault"]
    assert CHANGED.encode() not in raw_store(store_url)
    staged = json.loads(invoke("diff", "--json").stdout)["changes"]
    assert staged == {
        "vault": {"action": "update", "diff": {"password": {"from": "***", "to": "***"}}}
    }
    assert invoke("apply", "--yes").exit_code == 0
    assert (tmp_path / "vault.txt").read_text() == SECRET
    assert _stored_password(store_url) == stored
    assert _json(invoke, "refresh")[0] == 0


def test_refresh_without_the_key_file_fails_in_one_line_naming_it(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like apply: one error line naming the key file, and no read runs."""
    _deployed(invoke, tmp_path)
    missing = tmp_path / "missing.key"
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(missing))
    for args in (("refresh",), ("refresh", "--accept")):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        [line] = result.stderr.splitlines()
        assert str(missing) in line and "secret" in line
    assert not (tmp_path / "seen-template.txt").exists()
    assert json.loads(invoke("log", "--json").stdout)["commits"][0]["rev"] == 1


@pytest.mark.parametrize("read", [False, True], ids=["from-file", "read"])
def test_adopt_seals_secret_values(
    invoke: Invoke, tmp_path: Path, store_url: str, read: bool
) -> None:
    """adopt commits the file's secret, and adopt --read the observed one, sealed; both then
    refresh and stage as unchanged."""
    stack = _stack(tmp_path)
    (tmp_path / "vault.txt").write_text(CHANGED if read else SECRET)
    args = ("adopt", "stack.yaml", "vault", *(["--read"] if read else []))
    assert invoke(*args).exit_code == 0
    raw = raw_store(store_url)
    assert SECRET.encode() not in raw and CHANGED.encode() not in raw
    assert _opened_password(store_url) == (CHANGED if read else SECRET)
    if read:
        assert (tmp_path / "seen-template.txt").read_text() == SECRET
    assert _json(invoke, "refresh")[0] == 0
    if read:
        stack = _stack(tmp_path, CHANGED)
    assert _json(invoke, "stage", str(stack))[1]["changes"] == {}
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True
