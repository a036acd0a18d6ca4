"""Replaying commits forward rebuilds the state that produced them."""

from __future__ import annotations

import pytest

from retrograde.errors import CorruptLogError
from retrograde.model.change import make_change
from retrograde.model.commit_builder import build_commit
from retrograde.model.state import ResourceState
from retrograde.planning.replay import replay


def _commits(*steps: tuple[str, ResourceState | None, ResourceState | None]) -> list:  # type: ignore[type-arg]
    out = []
    previous = "0" * 64
    for rev, (name, before, after) in enumerate(steps, 1):
        change = make_change(name, before, after)
        assert change is not None
        commit = build_commit(
            change,
            rev=rev,
            apply_id=1,
            principal="p",
            timestamp="t",
            message="",
            previous_hash=previous,
        )
        previous = commit.hash
        out.append(commit)
    return out


A1 = ResourceState("svc", 1, {"ip": "1", "opt": None}, {"ip": "n.ip"}, {"node": "n1"})
A2 = ResourceState("svc", 2, {"ip": "2", "new": None}, {}, {"node": "n2"})
B1 = ResourceState("lb", 1, {"backends": ["1"]}, {"backends": ["a.ip"]}, {})


def test_replay_rebuilds_runs_updates_and_removals() -> None:
    """Run, update (with an input dropped and a null one added) and removal replay exactly."""
    commits = _commits(("a", None, A1), ("b", None, B1), ("a", A1, A2), ("b", B1, None))
    assert replay(commits) == {"a": A2}
    assert replay(commits[:2]) == {"a": A1, "b": B1}


def test_replay_on_top_of_a_snapshot() -> None:
    """Replaying the tail of a log onto the state before it gives the same end state."""
    commits = _commits(("a", None, A1), ("b", None, B1), ("a", A1, A2))
    assert replay(commits[2:], replay(commits[:2])) == replay(commits)


def test_update_of_a_missing_resource_is_a_corrupt_log() -> None:
    """A commit that does not fit the state names its revision and resource."""
    commits = _commits(("a", None, A1), ("a", A1, A2))
    with pytest.raises(CorruptLogError) as caught:
        replay(commits[1:])
    assert (caught.value.rev, caught.value.resource) == (2, "a")
