"""``rekey``: a new key file wraps the same data key; no sealed value and no hash changes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import retrograde
from retrograde.commands.secret_keys import rekey
from retrograde.errors import SecretKeyError, StateError
from retrograde.storage.keys import read_key_file
from tests import store_calls
from tests.conftest import Invoke
from tests.secrets.vault import SECRET_V1, SECRET_V2, raw_store, write_vault


def _stored(ctx: retrograde.Context) -> tuple[object, ...]:
    """Every hash and every stored input value: what rekey must leave as it is."""
    commits = [c.to_json() for c in store_calls.log(ctx.store, retrograde.LogQuery(limit=100))]
    state = {n: s.to_json() for n, s in store_calls.load_state(ctx.store).items()}
    return store_calls.head(ctx.store), commits, state


def _key_file(ctx: retrograde.Context) -> Path:
    with ctx.store.read() as tx:
        return ctx.keys.key_file(tx.keys.load())


def test_rekey_in_place_keeps_a_backup_and_changes_no_stored_value(
    ctx: retrograde.Context, store_url: str
) -> None:
    """A fresh key replaces the file (0600), the old one is kept, every row stays the same."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    before, old_key = _stored(ctx), read_key_file(_key_file(ctx))
    done = rekey(ctx)
    path = _key_file(ctx)
    assert done.key_file == str(path) and done.backup is not None
    assert read_key_file(Path(done.backup)) == old_key != read_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _stored(ctx) == before
    with retrograde.open_context(store_url, cwd=ctx.cwd, principal="tester") as again:
        assert again.keys.problem() is None
        assert retrograde.verify(again).ok
        retrograde.apply(again, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V2
    assert SECRET_V2.encode() not in raw_store(store_url)


def test_rekey_to_a_named_file_leaves_the_old_one_and_needs_it_afterwards(
    ctx: retrograde.Context, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--new-key FILE is made 0600; the store opens with it, no longer with the old file."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    old = _key_file(ctx)
    old_key = read_key_file(old)
    done = rekey(ctx, Path("team.key"))
    assert done == type(done)(str(ctx.cwd / "team.key"), None)
    assert read_key_file(old) == old_key
    assert stat.S_IMODE(os.stat(ctx.cwd / "team.key").st_mode) == 0o600
    with retrograde.open_context(store_url, cwd=ctx.cwd) as stale:
        assert stale.keys.problem() is not None
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(ctx.cwd / "team.key"))
    with retrograde.open_context(store_url, cwd=ctx.cwd) as shared:
        sealed = store_calls.load_state(shared.store)["vault"].inputs["password"]
        assert shared.keys.box().open("vault", "password", sealed) == SECRET_V1


def test_rekey_without_the_current_key_or_any_secret_is_refused(
    ctx: retrograde.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No secret yet: StateError; a missing current key file: SecretKeyError, nothing made."""
    with pytest.raises(StateError, match="nothing to rekey"):
        rekey(ctx, Path("first.key"))
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(tmp_path / "gone.key"))
    with (
        retrograde.open_context(ctx.store.url, cwd=ctx.cwd) as keyless,
        pytest.raises(SecretKeyError, match=r"gone\.key is missing"),
    ):
        rekey(keyless, Path("new.key"))
    assert not (ctx.cwd / "new.key").exists()


def test_cli_rekey_prints_where_the_key_is(invoke: Invoke, tmp_path: Path) -> None:
    """`rekey --json` names the key file and the backup; `verify` still passes."""
    assert invoke("apply", str(write_vault(tmp_path, "v1.yaml", SECRET_V1)), "--yes").exit_code == 0
    result = invoke("rekey", "--json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert Path(view["backup"]).exists() and Path(view["key_file"]).exists()
    assert invoke("verify").exit_code == 0
