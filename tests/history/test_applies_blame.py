"""applies and blame against the known history; blame never looks past a resource's run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import retrograde
from retrograde.cli.main import cli
from retrograde.commands import history, history_views
from retrograde.commands.views import Secrets
from retrograde.errors import NotFoundError
from tests import store_calls
from tests.commands.stacks import V1, V2, write
from tests.history.conftest import Known


def cli_json(known: Known, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--db", known.url, *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_applies_are_listed_newest_first_with_who_why_status_and_counts(known: Known) -> None:
    """Each apply shows its principal, message, status and action counts, newest first."""
    with known.open() as ctx:
        page = history.applies(ctx)
    summary = [
        (a.id, a.principal, a.message, a.status.value, a.succeeded, a.failed, a.skipped)
        for a in page.applies
    ]
    assert summary == [
        (4, "carol", "add a broken service", "failed", 1, 1, 0),
        (3, "alice", "move keystone", "succeeded", 3, 0, 0),
        (2, "bob", "renumber node1", "succeeded", 3, 0, 0),
        (1, "alice", "initial", "succeeded", 4, 0, 0),
    ]
    assert all(a.ended_at is not None and a.started_at <= a.ended_at for a in page.applies)
    assert page.next is None


def test_applies_page_with_a_cursor(known: Known) -> None:
    """A short page ends with the id to continue from; the pages together list every apply."""
    with known.open() as ctx:
        first = history.applies(ctx, limit=3)
        second = history.applies(ctx, limit=3, before=first.next)
    assert [a.id for a in first.applies] == [4, 3, 2]
    assert first.next == 2
    assert [a.id for a in second.applies] == [1]
    assert second.next is None


def test_applies_json_names_failures(known: Known) -> None:
    """applies --json holds every apply with its failures, and a null cursor at the end."""
    view = cli_json(known, "applies")
    applies = view["applies"]
    assert isinstance(applies, list)
    assert applies[0]["failures"]["broken"]["exit_code"] == 3
    assert view["next"] is None


def test_blame_names_the_commit_that_last_set_each_input(known: Known) -> None:
    """Each input points at the newest commit of the resource whose diff changed it."""
    by_rev = {c.rev: c for c in known.commits}
    with known.open() as ctx:
        for resource in ("haproxy", "node1", "node2", "keystone2", "extra"):
            blame = history.blame(ctx, resource)
            assert set(blame.commits) == set(blame.state.inputs)
            for name, commit in blame.commits.items():
                assert commit is not None
                newer = [
                    c
                    for c in known.commits
                    if c.resource == resource and name in c.diff and c.rev > commit.rev
                ]
                assert newer == []
                assert by_rev[commit.rev].diff[name]["to"] == blame.state.inputs[name]


def test_blame_attributes_to_who_when_and_which_apply(known: Known) -> None:
    """haproxy's backends were last set by alice moving keystone; node1's ip by bob."""
    with known.open() as ctx:
        haproxy = history.blame(ctx, "haproxy").commits["backends"]
        node1 = history.blame(ctx, "node1").commits["ip"]
        node2 = history.blame(ctx, "node2").commits["ip"]
    assert haproxy is not None and node1 is not None and node2 is not None
    assert (haproxy.principal, haproxy.apply_id, haproxy.action.value) == ("alice", 3, "update")
    assert (node1.principal, node1.apply_id, node1.message) == ("bob", 2, "renumber node1")
    assert (node2.principal, node2.apply_id, node2.action.value) == ("alice", 1, "run")


def test_blame_json_masks_secret_values(known: Known) -> None:
    """A secret input's value prints as *** while its commit is still named."""
    view = cli_json(known, "blame", "keystone2")
    inputs = view["inputs"]
    assert isinstance(inputs, dict)
    assert inputs["password"]["value"] == "***"
    assert inputs["password"]["principal"] == "alice"
    assert inputs["ip"]["value"] == "10.20.0.3"
    assert inputs["port"]["action"] == "run"


def test_blame_table_shows_every_input(known: Known) -> None:
    """The human blame output lists each input with its revision and principal."""
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--db", known.url, "blame", "node1"])
    assert result.exit_code == 0
    assert "ip" in result.output and "bob" in result.output and "renumber node1" in result.output


def test_blame_of_an_unknown_resource_is_not_found(known: Known) -> None:
    """Blaming a resource that is not in committed state names it."""
    with known.open() as ctx, pytest.raises(NotFoundError, match="keystone1"):
        history.blame(ctx, "keystone1")


def test_blame_stops_at_the_run_of_a_recreated_resource(
    fresh: retrograde.Context, tmp_path: Path
) -> None:
    """After remove and run again, every input is the new run's, not an older commit's."""
    retrograde.apply(fresh, write(tmp_path, "v1.yaml", V1))
    retrograde.apply(fresh, write(tmp_path, "v2.yaml", V2))
    report = retrograde.apply(fresh, write(tmp_path, "v1-again.yaml", V1))
    rerun = next(
        c.rev
        for c in retrograde.log(fresh)
        if c.resource == "keystone1" and c.apply_id == report.apply_id
    )
    blame = history.blame(fresh, "keystone1")
    assert {name: c.rev if c else None for name, c in blame.commits.items()} == dict.fromkeys(
        blame.state.inputs, rerun
    )
    view = history_views.blame_json(blame, Secrets(store_calls.load_types(fresh.store)))
    assert view["inputs"]["password"]["value"] == "***"
