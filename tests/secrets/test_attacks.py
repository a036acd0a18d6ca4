"""Attacks on sealed secrets: a ciphertext moved to another input, a wrong or missing key file.

A moved ciphertext must fail to decrypt with an error naming where it sits,
never yield another input's value; without its key a store still answers
every read verb (secrets as ``***``), says so once on stderr, and refuses,
in one line naming the key file, what needs plaintext.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import retrograde
from retrograde.errors import SecretKeyError, SecretTamperedError
from retrograde.storage.sql.database import normalise_url
from tests import store_calls
from tests.conftest import Invoke
from tests.secrets.vault import SECRET_V1, SECRET_V2, write_vault


def _move_ciphertext(url: str, *, source: str, target: str) -> None:
    """In the database itself: ``target``'s stored password becomes ``source``'s ciphertext."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            rows = dict(conn.execute(text("SELECT name, inputs FROM resources")).all())
            inputs = json.loads(rows[target])
            inputs["password"] = json.loads(rows[source])["password"]
            conn.execute(
                text("UPDATE resources SET inputs = :inputs WHERE name = :name"),
                {"inputs": json.dumps(inputs), "name": target},
            )
    finally:
        engine.dispose()


def test_a_ciphertext_moved_to_another_resource_does_not_decrypt(
    ctx: retrograde.Context, store_url: str
) -> None:
    """Staging over the moved value fails naming spare.password; nothing is staged."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    _move_ciphertext(store_url, source="vault", target="spare")
    with pytest.raises(SecretTamperedError) as raised:
        retrograde.stage(ctx, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    assert (raised.value.resource, raised.value.input) == ("spare", "password")
    assert "spare.password" in str(raised.value) and "\n" not in str(raised.value)
    assert SECRET_V1 not in str(raised.value)
    assert store_calls.load_staged(ctx.store) == {}


def test_a_moved_ciphertext_in_the_staged_log_stops_apply_before_it_starts(
    ctx: retrograde.Context, store_url: str
) -> None:
    """A staged change whose ciphertext came from another resource runs no handler."""
    retrograde.stage(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    engine = create_engine(normalise_url(store_url))
    try:
        with engine.begin() as conn:
            rows = dict(conn.execute(text("SELECT resource, change FROM staged")).all())
            vault, spare = json.loads(rows["vault"]), json.loads(rows["spare"])
            spare["after"]["inputs"]["password"] = vault["after"]["inputs"]["password"]
            conn.execute(
                text("UPDATE staged SET change = :change WHERE resource = 'spare'"),
                {"change": json.dumps(spare)},
            )
    finally:
        engine.dispose()
    with pytest.raises(SecretTamperedError):
        retrograde.apply(ctx)
    assert store_calls.list_applies(ctx.store) == []
    assert not (ctx.cwd / "spare.password").exists()


@pytest.fixture(params=["missing", "wrong", "not a key"])
def keyless(
    request: pytest.FixtureRequest, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A store with an applied secret, then its key file missing, another key, or garbage."""
    assert invoke("apply", str(write_vault(tmp_path, "v1.yaml", SECRET_V1)), "--yes").exit_code == 0
    key_file = tmp_path / "elsewhere.key"
    if request.param == "wrong":
        key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    elif request.param == "not a key":
        key_file.write_text("hello\n")
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(key_file))
    return key_file


READS = [
    ("state",),
    ("state", "--json"),
    ("log",),
    ("log", "--json"),
    ("show", "1"),
    ("show", "1", "--json"),
    ("diff",),
    ("applies",),
    ("blame", "vault"),
    ("blame", "vault", "--json"),
    ("verify",),
    ("verify", "--json"),
    ("state", "--stack"),
]


def test_read_verbs_work_without_the_key_and_say_so_once(
    invoke: Invoke, keyless: Path, tmp_path: Path
) -> None:
    """Every read verb exits 0, shows no secret, and prints one stderr line naming the file."""
    for args in READS:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
        assert SECRET_V1 not in result.output
        [line] = result.stderr.splitlines()
        assert str(keyless) in line and "***" in line, args
    assert "***" in invoke("state").stdout
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_verbs_that_need_plaintext_fail_in_one_line_naming_the_key_file(
    invoke: Invoke, keyless: Path, tmp_path: Path
) -> None:
    """stage, apply and revert stop with one error line naming the key file; nothing changes."""
    before = invoke("log", "--json").stdout
    for args in (
        ("stage", str(write_vault(tmp_path, "v2.yaml", SECRET_V2))),
        ("apply", str(write_vault(tmp_path, "v2.yaml", SECRET_V2)), "--yes"),
        ("revert", "1"),
    ):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        [line] = result.stderr.splitlines()
        assert str(keyless) in line, (args, line)
    assert invoke("log", "--json").stdout == before
    assert invoke("diff", "--json").exit_code == 0


def test_a_wrong_key_is_refused_by_the_library_too(
    ctx: retrograde.Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without its key a store's box is a SecretKeyError, never a box that opens nothing."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    other = tmp_path / "other.key"
    other.write_bytes(base64.b64encode(os.urandom(32)))
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(other))
    with retrograde.open_context(ctx.store.url, cwd=ctx.cwd) as again:
        problem = again.keys.problem()
        assert problem is not None and problem.key_file == str(other)
        with pytest.raises(SecretKeyError):
            again.keys.box()


def test_the_json_error_names_the_key_file(invoke: Invoke, keyless: Path, tmp_path: Path) -> None:
    """apply --json without the key: a secret_key_error with key_file, on stdout only."""
    result = invoke("apply", str(write_vault(tmp_path, "v2.yaml", SECRET_V2)), "--yes", "--json")
    assert result.exit_code == 1 and result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "secret_key_error" and error["key_file"] == str(keyless)
