"""Secret values at rest: sealed in every table and export, in plaintext only for handlers.

Each test reads the store as an attacker with a copy of it would (the raw
SQLite bytes, every PostgreSQL row, the export decompressed) and looks for
the secret itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import retrograde
from retrograde.commands import history, transfer
from retrograde.model.sealed import is_sealed
from retrograde.storage.sql.database import normalise_url, sqlite_file
from tests import store_calls
from tests.secrets.vault import (
    SECRET_V1,
    SECRET_V2,
    SECRET_V3,
    export_text,
    raw_store,
    vault_stack,
    write_vault,
)
from tests.stacks import write


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_no_stored_row_holds_a_secret_in_clear(ctx: retrograde.Context, store_url: str) -> None:
    """Applied, updated and staged secrets are nowhere in the store's bytes; handlers got them."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    retrograde.apply(ctx, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    retrograde.stage(ctx, write_vault(ctx.cwd, "v3.yaml", SECRET_V3))
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V2
    raw = raw_store(store_url)
    assert b"db1" in raw, "the reader does see plain values"
    for secret in (SECRET_V1, SECRET_V2, SECRET_V3):
        assert secret.encode() not in raw
    assert is_sealed(store_calls.load_state(ctx.store)["vault"].inputs["password"])
    assert history.verify(ctx).ok


def test_an_export_holds_no_secret_and_imports_with_its_key(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """The .zst export, decompressed, holds no secret; its copy opens them with the same key."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    retrograde.apply(ctx, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    transfer.export(ctx, Path("log.jsonl.zst"))
    exported = ctx.cwd / "log.jsonl.zst"
    assert _mode(exported) == 0o600
    lines = export_text(exported)
    assert '"kind":"key"' in lines and "db1" in lines
    assert SECRET_V1 not in lines and SECRET_V2 not in lines
    copy_url = f"sqlite:///{tmp_path / 'copy' / 'state.db'}"
    with retrograde.open_context(copy_url, cwd=ctx.cwd, principal="tester") as copy:
        transfer.import_(copy, Path("log.jsonl.zst"))
        assert store_calls.head(copy.store) == store_calls.head(ctx.store)
        assert history.verify(copy).ok
        sealed = store_calls.load_state(copy.store)["vault"].inputs["password"]
        assert copy.keys.box().open("vault", "password", sealed) == SECRET_V2
        retrograde.apply(copy, write_vault(ctx.cwd, "v1.yaml", SECRET_V1, host="db9"))
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1


def test_an_unchanged_secret_keeps_its_ciphertext(ctx: retrograde.Context) -> None:
    """Restaging and an update of another input reuse the stored ciphertext: no diff, no new
    value in the commit."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    stored = store_calls.load_state(ctx.store)["vault"].inputs["password"]
    assert retrograde.stage(ctx, write_vault(ctx.cwd, "same.yaml", SECRET_V1)) == {}
    staged = retrograde.stage(ctx, write_vault(ctx.cwd, "host.yaml", SECRET_V1, host="db7"))
    change = staged["vault"]
    assert set(change.diff) == {"host"}
    assert change.after is not None and change.after.inputs["password"] == stored
    report = retrograde.apply(ctx)
    [rev] = report.commits
    assert set(store_calls.get_commit(ctx.store, rev).diff) == {"host"}
    assert store_calls.load_state(ctx.store)["vault"].inputs["password"] == stored


def test_a_revert_brings_back_the_ciphertext_of_the_old_value(ctx: retrograde.Context) -> None:
    """Reverting a secret's update stages the very ciphertext the first commit stored."""
    first = retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    second = retrograde.apply(ctx, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    set_first = {store_calls.get_commit(ctx.store, rev).resource: rev for rev in first.commits}[
        "vault"
    ]
    original = store_calls.get_commit(ctx.store, set_first).diff["password"]["to"]
    preview = retrograde.revert(ctx, [rev for rev in second.commits])
    change = preview.changes["vault"]
    assert change.after is not None and change.after.inputs["password"] == original
    retrograde.apply(ctx)
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1
    assert history.verify(ctx).ok


def test_store_and_key_files_are_private(ctx: retrograde.Context, store_url: str) -> None:
    """Key file 0600 in 0700 directories; a SQLite store's file, -wal, -shm 0600, dir 0700."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    with ctx.store.read() as tx:
        key_file = ctx.keys.key_file(tx.keys.load())
    assert key_file.is_relative_to(Path(os.environ["XDG_CONFIG_HOME"]))
    assert _mode(key_file) == 0o600
    assert _mode(key_file.parent) == 0o700 and _mode(key_file.parent.parent) == 0o700
    path = sqlite_file(normalise_url(store_url))
    if path is None:
        return  # PostgreSQL keeps no file here
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        assert _mode(path.with_name(name)) == 0o600, name
    assert _mode(path.parent) == 0o700


def test_a_store_without_secrets_makes_no_key(ctx: retrograde.Context) -> None:
    """The key file is made on the first secret staged, not before."""
    plain = vault_stack(SECRET_V1).replace("secret: true", "secret: false")
    retrograde.apply(ctx, write(ctx.cwd, "plain.yaml", plain))
    with ctx.store.read() as tx:
        keys = tx.keys.load()
    assert keys.wrapped_key is None and not ctx.keys.key_file(keys).exists()
    retrograde.apply(ctx, write_vault(ctx.cwd, "v2.yaml", SECRET_V2))
    with ctx.store.read() as tx:
        assert ctx.keys.key_file(tx.keys.load()).exists()


def test_an_adopted_resource_is_committed_with_its_secrets_sealed(
    ctx: retrograde.Context, store_url: str
) -> None:
    """``adopt`` commits the stack's values as they are: the secret ones sealed."""
    from retrograde.commands.adopting import adopt

    [commit] = adopt(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1), ["vault"])
    assert is_sealed(commit.diff["password"]["to"])
    assert SECRET_V1.encode() not in raw_store(store_url)
    sealed = store_calls.load_state(ctx.store)["vault"].inputs["password"]
    assert ctx.keys.box().open("vault", "password", sealed) == SECRET_V1
    assert history.verify(ctx).ok
