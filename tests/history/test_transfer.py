"""export and import: exact round trips, appending zstd frames, and what import refuses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import retrograde
from retrograde.cli.main import cli
from retrograde.commands import history, transfer
from retrograde.errors import CorruptLogError, NotFoundError, StateError
from retrograde.history.files import read_lines
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState
from retrograde.storage.sealing import Opener
from retrograde.storage.sql import schema
from tests import store_calls
from tests.commands.stacks import V1, V2, write
from tests.history.bulk import bulk_history


def records(path: Path) -> list[dict[str, object]]:
    """The lines of an export, decoded, without the segments' export times."""
    found = []
    for line in read_lines(path):
        data = json.loads(line)
        data.pop("exported_at", None)
        found.append(data)
    return found


def everything(ctx: retrograde.Context) -> tuple[object, ...]:
    """What an exact copy must share: head, every commit, committed state, applies."""
    commits = [c.to_json() for c in retrograde.log(ctx, LogQuery(limit=100_000))]
    state = {n: s.to_json() for n, s in retrograde.state(ctx).resources.items()}
    applies = [a.to_json() for a in history.applies(ctx, limit=10_000).applies]
    marks = [c.to_json() for c in retrograde.checkpoints(ctx)]
    return store_calls.head(ctx.store), commits, state, applies, marks


@pytest.mark.parametrize("name", ["copy.jsonl", "copy.jsonl.zst"])
def test_export_then_import_gives_an_identical_store(
    fresh: retrograde.Context, second_url: str, known_export: Path, name: str
) -> None:
    """A store imported from an export has the same hashes, commits, state and applies."""
    transfer.import_(fresh, known_export)
    transfer.export(fresh, Path(name))
    with retrograde.open_context(second_url, cwd=fresh.cwd) as copy:
        report = transfer.import_(copy, Path(name))
        assert history.verify(copy).ok
        assert everything(copy) == everything(fresh)
    assert report.commits == store_calls.head(fresh.store)[0] == len(retrograde.log(fresh))
    assert records(fresh.cwd / name) == records(known_export)


def test_imported_secrets_stay_masked_and_types_come_along(
    fresh: retrograde.Context, known_export: Path
) -> None:
    """The export carries the type definitions, so secret inputs stay secret after import."""
    transfer.import_(fresh, known_export)
    assert {key[0] for key in store_calls.load_types(fresh.store)} >= {"node", "service", "lb"}
    result = CliRunner().invoke(
        cli, ["--db", fresh.store.url, "log", "--input", "password", "--json"]
    )
    assert '"***"' in result.output
    assert "s3cret" not in result.output


def test_append_adds_only_new_commits_as_a_frame_after_the_original_bytes(
    fresh: retrograde.Context, second_url: str, tmp_path: Path
) -> None:
    """The appended file starts with the old bytes, zstd -d reads it, and it imports exactly."""
    retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1), message="first")
    first = transfer.export(fresh, Path("log.jsonl.zst"))
    original = (tmp_path / "log.jsonl.zst").read_bytes()
    retrograde.checkpoint(fresh, "before-move", at=2)  # a past revision, named after export
    retrograde.apply(fresh, write(tmp_path, "v2.yaml", V2), message="second")
    appended = transfer.export(fresh, Path("log.jsonl.zst"), append=True)
    grown = (tmp_path / "log.jsonl.zst").read_bytes()
    assert grown.startswith(original) and len(grown) > len(original)
    assert (appended.first_rev, appended.last_rev) == (
        first.last_rev + 1,
        store_calls.head(fresh.store)[0],
    )
    assert grown[len(original) : len(original) + 4] == b"\x28\xb5\x2f\xfd"  # a new zstd frame
    plain = subprocess.run(
        [_zstd(), "-d", "-c", str(tmp_path / "log.jsonl.zst")], check=True, capture_output=True
    ).stdout
    assert plain.splitlines(keepends=True) == list(read_lines(tmp_path / "log.jsonl.zst"))
    assert [json.loads(line)["kind"] for line in plain.splitlines()].count("segment") == 2
    with retrograde.open_context(second_url, cwd=tmp_path) as copy:
        transfer.import_(copy, Path("log.jsonl.zst"))
        assert history.verify(copy).ok
        assert everything(copy) == everything(fresh)
        assert [c.name for c in retrograde.checkpoints(copy)] == ["before-move"]


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.zst"])
def test_append_with_nothing_new_leaves_the_file_as_it_is(
    fresh: retrograde.Context, known_export: Path, name: str
) -> None:
    """Appending when the file already has every commit writes nothing."""
    transfer.import_(fresh, known_export)
    transfer.export(fresh, Path(name))
    before = (fresh.cwd / name).read_bytes()
    report = transfer.export(fresh, Path(name), append=True)
    assert report.commits == 0 and report.first_rev is None
    assert (fresh.cwd / name).read_bytes() == before


def test_append_to_a_plain_file_adds_a_segment(
    fresh: retrograde.Context, second_url: str, tmp_path: Path
) -> None:
    """A plain JSON Lines export grows the same way, by a new segment at its end."""
    retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1))
    transfer.export(fresh, Path("log.jsonl"))
    original = (tmp_path / "log.jsonl").read_bytes()
    retrograde.apply(fresh, write(tmp_path, "v2.yaml", V2))
    transfer.export(fresh, Path("log.jsonl"), append=True)
    assert (tmp_path / "log.jsonl").read_bytes().startswith(original)
    with retrograde.open_context(second_url, cwd=tmp_path) as copy:
        transfer.import_(copy, Path("log.jsonl"))
        assert everything(copy) == everything(fresh)


def test_append_refuses_a_file_of_another_history(
    fresh: retrograde.Context, second_url: str, tmp_path: Path
) -> None:
    """A file whose last commit this store does not have (by hash) is left alone."""
    retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1))
    with retrograde.open_context(second_url, cwd=tmp_path, principal="mallory") as other:
        retrograde.apply(other, write(tmp_path, "v1.yaml", V1))
        transfer.export(other, Path("theirs.jsonl.zst"))
    before = (tmp_path / "theirs.jsonl.zst").read_bytes()
    with pytest.raises(StateError, match="does not continue this store's history"):
        transfer.export(fresh, Path("theirs.jsonl.zst"), append=True)
    assert (tmp_path / "theirs.jsonl.zst").read_bytes() == before


def test_since_exports_only_later_commits_which_cannot_be_imported_alone(
    fresh: retrograde.Context, second_url: str, known_export: Path
) -> None:
    """--since REV starts after REV; importing such a file alone is refused, naming why."""
    transfer.import_(fresh, known_export)
    report = transfer.export(fresh, Path("tail.jsonl"), since=5)
    head = store_calls.head(fresh.store)[0]
    assert (report.first_rev, report.last_rev, report.commits) == (6, head, head - 5)
    revs = [r["rev"] for r in records(fresh.cwd / "tail.jsonl") if r["kind"] == "commit"]
    assert revs == list(range(6, head + 1))
    with retrograde.open_context(second_url, cwd=fresh.cwd) as copy:
        with pytest.raises(CorruptLogError, match="--since"):
            transfer.import_(copy, Path("tail.jsonl"))
        assert store_calls.head(copy.store)[0] == 0
    with pytest.raises(NotFoundError):
        transfer.export(fresh, Path("beyond.jsonl"), since=head + 1)
    assert not (fresh.cwd / "beyond.jsonl").exists()


def test_import_refuses_a_store_that_is_not_empty(
    fresh: retrograde.Context, known_export: Path, tmp_path: Path
) -> None:
    """Import into a store with history is refused in one line, and changes nothing."""
    retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1))
    head = store_calls.head(fresh.store)
    with pytest.raises(StateError, match="empty store"):
        transfer.import_(fresh, known_export)
    assert store_calls.head(fresh.store) == head


def _tampered(source: Path, target: Path, rev: int, edit: str) -> int:
    """Copy ``source`` to ``target`` with commit ``rev`` edited (or dropped); its line number."""
    lines = source.read_bytes().splitlines(keepends=True)
    number = next(
        i
        for i, line in enumerate(lines)
        if b'"kind":"commit"' in line and json.loads(line)["rev"] == rev
    )
    data = json.loads(lines[number])
    if edit == "drop":
        del lines[number]
    elif edit == "diff":
        name = next(iter(data["diff"]))
        data["diff"][name]["to"] = "evil"
        lines[number] = (json.dumps(data) + "\n").encode()
    else:
        data["reverse"] = {}
        lines[number] = (json.dumps(data) + "\n").encode()
    target.write_bytes(b"".join(lines))
    return number + 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("diff", "hash mismatch"),
        ("reverse", "hash mismatch"),
        ("drop", "says it follows rev 4, but it follows rev 3"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    fresh: retrograde.Context, known_export: Path, edit: str, message: str
) -> None:
    """An edited or missing commit line stops the import at that line and revision (a
    missing one at the chain entry after it, which no longer follows its commit)."""
    number = _tampered(known_export, fresh.cwd / "bad.jsonl", 4, edit)
    with pytest.raises(CorruptLogError, match=message) as caught:
        transfer.import_(fresh, Path("bad.jsonl"))
    assert f"bad.jsonl:{number}" in str(caught.value)
    assert caught.value.rev == (3 if edit == "drop" else 4)
    assert store_calls.head(fresh.store)[0] == 0
    assert store_calls.load_state(fresh.store) == {}
    assert history.applies(fresh).applies == ()


def test_import_leaves_the_log_indexes_in_place_whether_it_succeeds_or_fails(
    fresh: retrograde.Context, known_export: Path
) -> None:
    """An import leaves the log's four indexes as a new store has them (SQLite builds them
    after the rows); one that fails on a late line rolls dropped indexes back with the rest."""
    expected = sorted(str(index.name) for index in schema.commits.indexes)
    assert store_calls.commit_indexes(fresh.store) == expected
    _tampered(known_export, fresh.cwd / "bad.jsonl", 4, "diff")
    with pytest.raises(CorruptLogError):
        transfer.import_(fresh, Path("bad.jsonl"))
    assert store_calls.commit_indexes(fresh.store) == expected
    transfer.import_(fresh, known_export)
    assert store_calls.commit_indexes(fresh.store) == expected
    alice = retrograde.log(fresh, LogQuery(principal="alice"))
    assert alice and {commit.principal for commit in alice} == {"alice"}


def test_a_truncated_zstd_export_is_refused(
    fresh: retrograde.Context, second_url: str, known_export: Path
) -> None:
    """A .zst file cut short (an interrupted copy) is not imported and not appended to."""
    transfer.import_(fresh, known_export)
    transfer.export(fresh, Path("log.jsonl.zst"))
    data = (fresh.cwd / "log.jsonl.zst").read_bytes()
    (fresh.cwd / "cut.jsonl.zst").write_bytes(data[: len(data) - 40])
    with retrograde.open_context(second_url, cwd=fresh.cwd) as copy:
        with pytest.raises(CorruptLogError):
            transfer.import_(copy, Path("cut.jsonl.zst"))
        assert store_calls.head(copy.store)[0] == 0
    with pytest.raises(CorruptLogError, match="interrupted"):
        transfer.export(fresh, Path("cut.jsonl.zst"), append=True)


def test_long_histories_cross_every_batch_boundary(
    fresh: retrograde.Context, second_url: str
) -> None:
    """11,000 commits (several read and insert batches, a snapshot) export, import and verify.

    The bulk commits hold the secret ``token`` in clear, so the copy's committed state and
    snapshot, rebuilt from them, hold it sealed: the same values once opened."""
    bulk_history(fresh.store, 11_000)
    assert history.verify(fresh).ok
    transfer.export(fresh, Path("long.jsonl.zst"))
    with retrograde.open_context(second_url, cwd=fresh.cwd) as copy:
        report = transfer.import_(copy, Path("long.jsonl.zst"))
        verified = history.verify(copy)
        assert verified.ok, verified.problems
        assert (report.commits, verified.head_hash) == (11_000, store_calls.head(fresh.store)[1])
        opener = Opener(copy.keys.box)
        assert opener.states(store_calls.state_at(copy.store, 10_500)) == store_calls.state_at(
            fresh.store, 10_500
        )
        head, commits, state, applies, marks = everything(copy)
        state = {name: opener.state(name, ResourceState.from_json(s)) for name, s in state.items()}
        opened = {name: s.to_json() for name, s in state.items() if s is not None}
        assert (head, commits, opened, applies, marks) == everything(fresh)


def test_applies_continue_after_import(
    fresh: retrograde.Context, known_export: Path, tmp_path: Path
) -> None:
    """After an import, a new apply takes the next apply id and the next revision."""
    transfer.import_(fresh, known_export)
    head = store_calls.head(fresh.store)[0]
    report = retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1), message="after import")
    assert report.apply_id == 5
    assert report.commits and report.commits[0] == head + 1
    assert history.verify(fresh).ok


def test_cli_exports_to_standard_output_and_imports_a_file(
    fresh: retrograde.Context, second_url: str, known_export: Path, tmp_path: Path
) -> None:
    """export without -o writes JSON Lines to stdout; import FILE --json reports what came in."""
    transfer.import_(fresh, known_export)
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", fresh.store.url, "export"], catch_exceptions=False)
    assert out.exit_code == 0
    (tmp_path / "piped.jsonl").write_bytes(out.stdout_bytes)
    kinds = [json.loads(line)["kind"] for line in out.stdout_bytes.splitlines()]
    assert kinds[0] == "segment" and kinds.count("commit") == store_calls.head(fresh.store)[0]
    result = runner.invoke(
        cli, ["--db", second_url, "import-log", str(tmp_path / "piped.jsonl"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["last_hash"] == store_calls.head(fresh.store)[1]
    again = runner.invoke(cli, ["--db", second_url, "import-log", str(tmp_path / "piped.jsonl")])
    assert again.exit_code == 1
    assert again.output.count("\n") == 1 and "empty store" in again.output


def _zstd() -> str:
    found = shutil.which("zstd")
    assert found, "the zstd command-line tool is needed (apt-get install zstd)"
    return found
