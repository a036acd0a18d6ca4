"""log filters, alone and combined, and cursor paging, against the known history."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

import retrograde
from retrograde.cli.main import cli as cli_group
from retrograde.commands import history
from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.sql.store import SqlStore
from tests import store_calls
from tests.history.conftest import Known
from tests.storage.samples import change, commit_all, node, stamp

Filters = dict[str, Any]


def expected(known: Known, keep: Callable[[Commit], bool]) -> list[int]:
    """The revisions of the known history that ``keep`` accepts, newest first."""
    return [c.rev for c in reversed(known.commits) if keep(c)]


def found(known: Known, **filters: Any) -> list[int]:
    with known.open() as ctx:
        page = history.log_page(ctx, LogQuery(limit=1000, **filters))
    assert page.next is None
    return [c.rev for c in page.commits]


def _stamp(known: Known, rev: int) -> str:
    return known.commits[rev - 1].timestamp


SINGLE: list[tuple[str, Callable[[Known], Filters], Callable[[Known, Commit], bool]]] = [
    ("resource", lambda k: {"resource": "haproxy"}, lambda k, c: c.resource == "haproxy"),
    ("apply", lambda k: {"apply_id": 2}, lambda k, c: c.apply_id == 2),
    ("principal", lambda k: {"principal": "bob"}, lambda k, c: c.principal == "bob"),
    ("action", lambda k: {"action": "remove"}, lambda k, c: c.action.value == "remove"),
    ("input", lambda k: {"input": "backends"}, lambda k, c: "backends" in c.diff),
    ("secret input", lambda k: {"input": "password"}, lambda k, c: "password" in c.diff),
    ("rev-from", lambda k: {"rev_from": 6}, lambda k, c: c.rev >= 6),
    ("rev-to", lambda k: {"rev_to": 3}, lambda k, c: c.rev <= 3),
    ("before", lambda k: {"before_rev": 5}, lambda k, c: c.rev < 5),
    (
        "since",
        lambda k: {"since": _stamp(k, 6)},
        lambda k, c: c.timestamp >= _stamp(k, 6),
    ),
    (
        "until",
        lambda k: {"until": _stamp(k, 5)},
        lambda k, c: c.timestamp <= _stamp(k, 5),
    ),
    ("unknown resource", lambda k: {"resource": "nope"}, lambda k, c: False),
    ("unknown input", lambda k: {"input": "nope"}, lambda k, c: False),
]


@pytest.mark.parametrize(("name", "filters", "keep"), SINGLE, ids=[s[0] for s in SINGLE])
def test_each_filter_lists_exactly_its_commits_newest_first(
    known: Known,
    name: str,
    filters: Callable[[Known], Filters],
    keep: Callable[[Known, Commit], bool],
) -> None:
    """Each filter returns the commits a plain filter over the whole log keeps, newest first."""
    want = expected(known, lambda c: keep(known, c))
    assert found(known, **filters(known)) == want
    if name in ("resource", "principal", "action", "input", "apply"):
        assert want, "the known history must exercise this filter"


COMBINED: list[tuple[Filters, Callable[[Commit], bool]]] = [
    (
        {"resource": "haproxy", "principal": "alice"},
        lambda c: c.resource == "haproxy" and c.principal == "alice",
    ),
    (
        {"principal": "alice", "action": "run"},
        lambda c: c.principal == "alice" and c.action.value == "run",
    ),
    ({"input": "ip", "principal": "bob"}, lambda c: "ip" in c.diff and c.principal == "bob"),
    (
        {"input": "ip", "resource": "keystone1", "action": "remove"},
        lambda c: "ip" in c.diff and c.resource == "keystone1" and c.action.value == "remove",
    ),
    ({"apply_id": 3, "action": "update"}, lambda c: c.apply_id == 3 and c.action.value == "update"),
    ({"rev_from": 2, "rev_to": 8, "input": "ip"}, lambda c: 2 <= c.rev <= 8 and "ip" in c.diff),
    (
        {"rev_from": 4, "before_rev": 9, "principal": "alice"},
        lambda c: 4 <= c.rev < 9 and c.principal == "alice",
    ),
    ({"resource": "node1", "principal": "carol"}, lambda c: False),
]


@pytest.mark.parametrize(("filters", "keep"), COMBINED)
def test_filters_combine_with_and(
    known: Known, filters: Filters, keep: Callable[[Commit], bool]
) -> None:
    """Several filters together keep only the commits every one of them keeps."""
    assert found(known, **filters) == expected(known, keep)


def test_time_window_combines_with_other_filters(known: Known) -> None:
    """since/until narrow to a window that other filters then narrow further."""
    since, until = _stamp(known, 3), _stamp(known, 9)
    want = expected(known, lambda c: since <= c.timestamp <= until and "ip" in c.diff)
    assert found(known, since=since, until=until, input="ip") == want
    assert found(known, since=_stamp(known, len(known.commits)), until=_stamp(known, 1)) == []


def test_the_known_history_has_what_the_filters_need(known: Known) -> None:
    """Three principals, one remove, a failed apply without commits: the filters have work."""
    assert {c.principal for c in known.commits} == {"alice", "bob", "carol"}
    assert [c.resource for c in known.commits if c.action.value == "remove"] == ["keystone1"]
    assert [c.rev for c in known.commits] == list(range(1, len(known.commits) + 1))
    stamps = [c.timestamp for c in known.commits]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    "filters", [{}, {"principal": "alice"}, {"input": "ip"}, {"since": "2000-01-01"}]
)
def test_cursor_pages_walk_every_match_exactly_once(known: Known, filters: Filters) -> None:
    """Following ``next`` from page to page lists every match once, in order, then stops."""
    query = LogQuery(limit=2, **filters)
    with known.open() as ctx:
        everything = [
            c.rev for c in history.log_page(ctx, dataclasses.replace(query, limit=1000)).commits
        ]
        walked: list[int] = []
        while True:
            page = history.log_page(ctx, query)
            walked.extend(c.rev for c in page.commits)
            assert len(page.commits) <= 2
            if page.next is None:
                break
            assert page.next == page.commits[-1].rev
            query = dataclasses.replace(query, before_rev=page.next)
    assert walked == everything
    assert len(everything) >= 3


def test_a_page_that_ends_exactly_at_the_last_match_has_no_next(known: Known) -> None:
    """When the matches fill the page exactly, ``next`` is still null."""
    total = len(known.commits)
    with known.open() as ctx:
        page = history.log_page(ctx, LogQuery(limit=total))
    assert len(page.commits) == total
    assert page.next is None


def cli(known: Known, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli_group, ["--db", known.url, "log", *args])


def test_cli_until_a_printed_time_includes_that_whole_second(known: Known) -> None:
    """A time copied from the log table (to the second) bounds --until inclusively."""
    third = known.commits[2]
    printed = third.timestamp[:19].replace("T", " ")
    result = cli(known, "--until", printed, "--json", "--limit", "1000")
    assert result.exit_code == 0, result.output
    revs = [c["rev"] for c in json.loads(result.output)["commits"]]
    assert third.rev in revs
    assert revs == expected(known, lambda c: c.timestamp[:19] <= third.timestamp[:19])


def test_cli_relative_times_and_the_next_page_hint(known: Known) -> None:
    """--since 1h covers this test run's history; a short page tells how to get the next."""
    result = cli(known, "--since", "1h", "--limit", "2")
    assert result.exit_code == 0
    newest = known.commits[-1].rev
    assert f"more: add --before {newest - 1} for the next page" in result.output
    data = json.loads(cli(known, "--since", "1h", "--limit", "2", "--json").output)
    assert [c["rev"] for c in data["commits"]] == [newest, newest - 1]
    assert data["next"] == newest - 1
    assert json.loads(cli(known, "--until", "1h", "--json").output) == {"commits": [], "next": None}


def test_cli_refuses_a_time_it_cannot_read(known: Known) -> None:
    """An unreadable --since is a usage error (exit 2) that shows both accepted forms."""
    result = cli(known, "--since", "last tuesday")
    assert result.exit_code == 2
    assert "2026-11-25T15:35:56Z" in result.output and "2h" in result.output


def test_a_commit_stamped_before_the_one_before_it_takes_that_time(
    fresh: retrograde.Context,
) -> None:
    """A clock that steps back cannot make timestamps decrease, so time ranges stay exact."""
    assert isinstance(fresh.store, SqlStore)
    first = commit_all(fresh.store, [change("a", None, node("1"))], start=30)
    late = commit_all(fresh.store, [change("b", None, node("2"))], start=10)
    assert late[0].timestamp == first[0].timestamp == stamp(30)
    assert history.verify(fresh).ok
    assert [c.rev for c in store_calls.log(fresh.store, LogQuery(since=stamp(30)))] == [2, 1]


def test_a_resource_removed_and_created_again_keeps_its_names_history(
    fresh: retrograde.Context,
) -> None:
    """``log --resource`` of a name whose resource was removed and created again lists the
    earlier resource's commits too: the name's history is not cut at a re-creation."""
    first, second = node("10.0.0.1"), node("10.0.0.2")
    commit_all(fresh.store, [change("node1", None, first)])
    commit_all(fresh.store, [change("node1", first, None)], start=2)
    commit_all(fresh.store, [change("node1", None, second)], start=3)
    commit_all(fresh.store, [change("node1", second, first)], start=4)
    page = history.log_page(fresh, LogQuery(resource="node1", limit=100))
    assert [(c.rev, c.action.value) for c in page.commits] == [
        (4, "update"),
        (3, "run"),
        (2, "remove"),
        (1, "run"),
    ]
    paged: list[int] = []
    before: int | None = None
    while True:
        step = history.log_page(fresh, LogQuery(resource="node1", limit=1, before_rev=before))
        paged.extend(c.rev for c in step.commits)
        if step.next is None:
            break
        before = step.next
    assert paged == [4, 3, 2, 1]
