"""An input declared ``secret: true`` after values of it were committed in clear.

Staging the new definition seals those values in committed state, in every
snapshot and in the staged log; the commits keep them in clear (history is
not rewritten, so its hashes, chain entries and signatures stay valid) and
``verify`` names the type input and the revisions that hold them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

import retrograde
from retrograde.commands import history, timetravel, transfer
from retrograde.model.reports import ClearSecret
from retrograde.model.sealed import is_sealed
from retrograde.storage.sql.database import create_store_engine, normalise_url, writer
from retrograde.storage.sql.snapshots import write_snapshot
from tests import store_calls
from tests.conftest import Invoke
from tests.secrets.vault import SECRET_V1, SECRET_V2, vault_stack
from tests.stacks import write

OTHER = "other-Secret-55"
"""The password of ``spare`` in :func:`vault_stack`."""


def _clear_stack(password: str, host: str = "db1") -> str:
    return vault_stack(password, host).replace("secret: true", "secret: false")


def _snapshot_now(url: str) -> None:
    engine = create_store_engine(normalise_url(url), url)
    try:
        with writer(engine).begin() as conn:
            head = conn.execute(text("SELECT max(rev) FROM commits")).scalar_one()
            write_snapshot(conn, int(head))
    finally:
        engine.dispose()


def _rows(url: str, table: str) -> str:
    engine = create_store_engine(normalise_url(url), url)
    try:
        with engine.connect() as conn:
            return "\n".join(
                str(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}"))
            )
    finally:
        engine.dispose()


def _committed_in_clear(ctx: retrograde.Context, store_url: str) -> list[int]:
    """``vault`` and ``spare`` applied with the password not yet secret, then a snapshot."""
    first = retrograde.apply(ctx, write(ctx.cwd, "clear.yaml", _clear_stack(SECRET_V1)))
    _snapshot_now(store_url)
    assert SECRET_V1 in _rows(store_url, "resources")
    return list(first.commits)


def test_declaring_an_input_secret_seals_state_snapshots_and_staged(
    ctx: retrograde.Context, store_url: str
) -> None:
    """After staging the secret definition no clear value is left in state, snapshots or
    staged rows; verify passes and names the revisions whose commits keep them."""
    revs = _committed_in_clear(ctx, store_url)
    retrograde.stage(ctx, write(ctx.cwd, "secret.yaml", vault_stack(SECRET_V1, host="db7")))
    for table in ("resources", "staged"):
        rows = _rows(store_url, table)
        assert SECRET_V1 not in rows and OTHER not in rows, table
    state = store_calls.load_state(ctx.store)
    assert all(is_sealed(state[name].inputs["password"]) for name in ("vault", "spare"))
    with ctx.store.read() as tx:
        [(_rev, snapshot)] = list(tx.snapshots.all())
    assert snapshot["vault"].inputs["password"] == state["vault"].inputs["password"]
    staged = store_calls.load_staged(ctx.store)["vault"]
    assert set(staged.diff) == {"host"}
    assert staged.after is not None
    assert staged.after.inputs["password"] == state["vault"].inputs["password"]
    verified = history.verify(ctx)
    assert verified.ok, verified.problems
    assert verified.clear_secrets == (ClearSecret("vault", "password", tuple(sorted(revs))),)
    assert SECRET_V1 not in str(verified.to_json())
    retrograde.apply(ctx)
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1
    assert history.verify(ctx).ok


def test_a_value_declared_secret_and_changed_is_sealed_from_then_on(
    ctx: retrograde.Context, store_url: str
) -> None:
    """A new value after the declaration is sealed in its commit; the handler gets it;
    verify still names only the revisions from before."""
    revs = _committed_in_clear(ctx, store_url)
    report = retrograde.apply(ctx, write(ctx.cwd, "v2.yaml", vault_stack(SECRET_V2)))
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V2
    [rev] = report.commits
    assert is_sealed(store_calls.get_commit(ctx.store, rev).diff["password"]["to"])
    assert SECRET_V2 not in _rows(store_url, "commits")
    verified = history.verify(ctx)
    assert verified.ok, verified.problems
    assert verified.clear_secrets == (ClearSecret("vault", "password", tuple(sorted(revs))),)
    preview = retrograde.revert(ctx, [rev])
    change = preview.changes["vault"]
    assert change.after is not None and is_sealed(change.after.inputs["password"])
    retrograde.apply(ctx)
    assert (ctx.cwd / "vault.password").read_text() == SECRET_V1
    assert history.verify(ctx).ok


def test_verify_prints_where_history_keeps_a_secret_in_clear(
    invoke: Invoke, tmp_path: Path
) -> None:
    """One line naming the type input and the revisions; exit code 0 (the chain is whole)."""
    write(tmp_path, "clear.yaml", _clear_stack(SECRET_V1))
    write(tmp_path, "secret.yaml", vault_stack(SECRET_V1))
    assert invoke("apply", "clear.yaml", "--yes").exit_code == 0
    assert invoke("stage", "secret.yaml").exit_code == 0
    verified = invoke("verify")
    assert verified.exit_code == 0, verified.output
    assert "secret input vault.password is in clear in the commits of revisions 1-2" in (
        verified.output
    )
    assert SECRET_V1 not in verified.output


def test_an_import_seals_the_state_it_rebuilds_from_clear_commits(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """Replaying the export's clear commits would bring the clear values back into committed
    state and snapshots: the import seals them as staging did."""
    revs = _committed_in_clear(ctx, store_url)
    retrograde.apply(ctx, write(ctx.cwd, "secret.yaml", vault_stack(SECRET_V1, host="db7")))
    transfer.export(ctx, Path("log.jsonl"))
    copy_url = f"sqlite:///{tmp_path / 'copy' / 'state.db'}"
    with retrograde.open_context(copy_url, cwd=ctx.cwd, principal="tester") as copy:
        transfer.import_(copy, Path("log.jsonl"))
        rows = _rows(copy_url, "resources")
        assert SECRET_V1 not in rows and OTHER not in rows
        sealed = store_calls.load_state(copy.store)["vault"].inputs["password"]
        assert copy.keys.box().open("vault", "password", sealed) == SECRET_V1
        verified = history.verify(copy)
        assert verified.ok, verified.problems
        assert verified.clear_secrets == (ClearSecret("vault", "password", tuple(sorted(revs))),)


def test_the_line_shows_runs_of_revisions_and_counts_the_rest() -> None:
    """Runs are joined; past eight of them, the rest are counted, not listed."""
    revs = (1, 2, 3, 5, *range(10, 40, 2))
    line = ClearSecret("vault", "password", revs).line()
    assert line == (
        "secret input vault.password is in clear in the commits of revisions "
        "1-3, 5, 10, 12, 14, 16, 18, 20 and 9 more"
    )
    assert ClearSecret("db", "pw", (), (3, 4)).line().endswith("chain entries 3-4 (its default)")


def test_a_diff_across_the_declaration_shows_no_change_of_the_sealed_value(
    ctx: retrograde.Context,
) -> None:
    """State before (clear, replayed: no snapshot) and after (sealed) hold the same value:
    compared in plaintext with the key, only what changed is shown, and nothing in clear."""
    first = retrograde.apply(ctx, write(ctx.cwd, "clear.yaml", _clear_stack(SECRET_V1)))
    retrograde.apply(ctx, write(ctx.cwd, "secret.yaml", vault_stack(SECRET_V1, host="db7")))
    found = timetravel.diff_revisions(ctx, max(first.commits), None)
    assert {name: set(change.diff) for name, change in found.changes.items()} == {"vault": {"host"}}
    assert SECRET_V1 not in repr(found)
