"""Renames of resources with sealed secrets: the values are sealed again under the new name.

A ciphertext is bound to its resource's name, so each rename (``mv``, a
stack's ``moved:``, the renames back that ``revert`` and ``rollback`` stage
and ``apply`` commits) records
the old and the new ciphertext in its diff; replay, committed state,
snapshots, ``verify`` and exports then agree, handlers get the plaintext under
the new name, and no store row holds it in clear.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import history, transfer
from retrograde.errors import SecretKeyError
from retrograde.model.change import ActionName
from retrograde.model.query import LogQuery
from retrograde.model.sealed import is_sealed
from retrograde.planning.replay import apply_diff
from tests import store_calls
from tests.conftest import Invoke
from tests.secrets.vault import SECRET_V1, SECRET_V2, raw_store, vault_stack, write_vault
from tests.stacks import write


def _safe(directory: Path, name: str, password: str, host: str = "db1", *, moved: bool) -> Path:
    """The vault stack with resource ``vault`` named ``safe`` (and a ``moved:`` entry)."""
    text = vault_stack(password, host).replace("  vault: {type", "  safe: {type")
    if moved:
        text += "moved:\n  - {from: vault, to: safe}\n"
    return write(directory, name, text)


def _password(ctx: retrograde.Context, resource: str) -> object:
    """The stored (sealed) password of ``resource``, opened under its own name."""
    stored = store_calls.load_state(ctx.store)[resource].inputs["password"]
    assert is_sealed(stored)
    return ctx.keys.box().open(resource, "password", stored)


def test_mv_seals_the_secret_again_under_the_new_name(
    ctx: retrograde.Context, store_url: str
) -> None:
    """The move's diff is old -> new ciphertext, replay gives stored state, the update after
    the move gets the plaintext, and the store never holds it in clear."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    before = store_calls.load_state(ctx.store)["vault"].inputs
    commit = retrograde.mv(ctx, "vault", "safe")
    entry = commit.diff["password"]
    assert set(commit.diff) == {"password"}
    assert entry["from"] == before["password"] and entry["to"] != entry["from"]
    stored = store_calls.load_state(ctx.store)["safe"]
    assert apply_diff(before, commit.diff) == stored.inputs
    assert _password(ctx, "safe") == SECRET_V1
    assert retrograde.state_at(ctx, commit.rev).resources["safe"] == stored
    assert retrograde.state_at(ctx, commit.rev - 1).resources["vault"].inputs == before
    assert history.verify(ctx).ok
    setter = retrograde.blame(ctx, "safe").commits["password"]
    assert setter is not None and setter.action is ActionName.RUN
    retrograde.apply(ctx, _safe(ctx.cwd, "host.yaml", SECRET_V1, host="db7", moved=False))
    assert (ctx.cwd / "safe.password").read_text() == SECRET_V1
    assert history.verify(ctx).ok
    assert SECRET_V1.encode() not in raw_store(store_url)


def test_a_move_shows_no_value_change(invoke: Invoke) -> None:
    """show and mv print the move's diff empty and log --input skips it (same plaintext)."""
    stack = write_vault(Path.cwd(), "v1.yaml", SECRET_V1)
    assert invoke("apply", str(stack), "--yes").exit_code == 0
    moved = json.loads(invoke("mv", "vault", "safe", "--json").stdout)
    assert moved["diff"] == {} and moved["reverse"] == {}
    shown = invoke("show", str(moved["rev"]))
    assert shown.exit_code == 0 and "password" not in shown.stdout
    assert json.loads(invoke("show", str(moved["rev"]), "--json").stdout)["diff"] == {}
    found = json.loads(invoke("log", "--input", "password", "--json").stdout)["commits"]
    assert [c["action"] for c in found] == ["run", "run"]
    assert json.loads(invoke("verify", "--json").stdout)["ok"] is True


def test_reverting_a_move_restores_the_old_ciphertext(ctx: retrograde.Context) -> None:
    """The staged rename back holds the very ciphertext ``vault`` had; once applied, no
    revision diff shows."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    original = store_calls.load_state(ctx.store)["vault"].inputs["password"]
    head = store_calls.head(ctx.store)[0]
    commit = retrograde.mv(ctx, "vault", "safe")
    preview = retrograde.revert(ctx, [commit.rev])
    [back] = preview.moves
    assert back.diff["password"] == {"from": commit.diff["password"]["to"], "to": original}
    assert "vault" not in store_calls.load_state(ctx.store), "staged, not committed"
    retrograde.apply(ctx)
    assert store_calls.load_state(ctx.store)["vault"].inputs["password"] == original
    assert retrograde.diff_revisions(ctx, head, None).changes == {}
    assert history.verify(ctx).ok
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1, host="db8"))
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1


def test_a_moved_entry_seals_again_before_the_stack_is_staged(ctx: retrograde.Context) -> None:
    """``moved:`` renames with new ciphertexts, then the update sees the plaintext unchanged."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    staged = retrograde.stage(ctx, _safe(ctx.cwd, "moved.yaml", SECRET_V1, "db5", moved=True))
    assert set(staged["safe"].diff) == {"host"}
    [move] = store_calls.log(ctx.store, LogQuery(action=ActionName.MOVE.value))
    assert set(move.diff) == {"password"}
    retrograde.apply(ctx)
    assert (ctx.cwd / "safe.password").read_text() == SECRET_V1
    assert _password(ctx, "safe") == SECRET_V1
    assert history.verify(ctx).ok


def test_a_rollback_across_the_rename_brings_back_the_old_name_and_value(
    ctx: retrograde.Context, store_url: str
) -> None:
    """Rolled back past a rename and a new password: ``vault`` holds V1 again, opened as such."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    target = store_calls.head(ctx.store)[0]
    retrograde.mv(ctx, "vault", "safe")
    retrograde.apply(ctx, _safe(ctx.cwd, "v2.yaml", SECRET_V2, moved=False))
    assert (ctx.cwd / "safe.password").read_text() == SECRET_V2
    retrograde.rollback(ctx, target)
    assert _password(ctx, "safe") == SECRET_V2, "nothing committed before apply"
    retrograde.apply(ctx)
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1
    assert _password(ctx, "vault") == SECRET_V1
    assert history.verify(ctx).ok
    raw = raw_store(store_url)
    assert SECRET_V1.encode() not in raw and SECRET_V2.encode() not in raw


def test_an_export_with_a_sealed_move_imports_and_verifies(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """The copy replays the move's re-sealed values and opens them under the new name."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    retrograde.mv(ctx, "vault", "safe")
    transfer.export(ctx, Path("log.jsonl.zst"))
    copy_url = f"sqlite:///{tmp_path / 'copy' / 'state.db'}"
    with retrograde.open_context(copy_url, cwd=ctx.cwd, principal="tester") as copy:
        transfer.import_(copy, Path("log.jsonl.zst"))
        assert history.verify(copy).ok
        assert store_calls.load_state(copy.store) == store_calls.load_state(ctx.store)
        assert _password(copy, "safe") == SECRET_V1


def test_mv_without_the_key_names_the_key_file_and_writes_nothing(
    ctx: retrograde.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sealed value cannot be sealed again without the key: SecretKeyError, head unchanged."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    head = store_calls.head(ctx.store)
    missing = tmp_path / "missing.key"
    monkeypatch.setenv("RETROGRADE_SECRET_KEY_FILE", str(missing))
    with retrograde.open_context(ctx.store.url, cwd=ctx.cwd, principal="tester") as keyless:
        with pytest.raises(SecretKeyError) as raised:
            retrograde.mv(keyless, "vault", "safe")
        assert raised.value.key_file == str(missing)
        assert store_calls.head(keyless.store) == head
        assert "vault" in store_calls.load_state(keyless.store)


def test_chained_renames_and_their_revert_seal_each_step_under_its_name(
    ctx: retrograde.Context,
) -> None:
    """``moved:`` vault -> mid -> safe seals twice; reverting the apply goes back in two
    steps to the ciphertext ``vault`` had, and replay matches every step."""
    retrograde.apply(ctx, write_vault(ctx.cwd, "v1.yaml", SECRET_V1))
    original = store_calls.load_state(ctx.store)["vault"].inputs["password"]
    text = vault_stack(SECRET_V1).replace("  vault: {type", "  safe: {type")
    text += "moved:\n  - {from: vault, to: mid}\n  - {from: mid, to: safe}\n"
    assert retrograde.stage(ctx, write(ctx.cwd, "chain.yaml", text)) == {}
    first, second = store_calls.log(ctx.store, LogQuery(action=ActionName.MOVE.value))[::-1]
    assert first.diff["password"]["to"] == second.diff["password"]["from"]
    assert _password(ctx, "safe") == SECRET_V1
    assert history.verify(ctx).ok
    assert first.apply_id is not None
    retrograde.revert(ctx, apply_id=first.apply_id)
    retrograde.apply(ctx)
    assert store_calls.load_state(ctx.store)["vault"].inputs["password"] == original
    assert history.verify(ctx).ok
