"""The pure reversal functions, tested from literal states and commits (no store)."""

from __future__ import annotations

import pytest

from retrograde.errors import ConflictError
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.commit_builder import build_commit
from retrograde.model.state import ResourceState
from retrograde.planning.diffing import stage_changes
from retrograde.planning.reversal import (
    check_matches,
    reconnected,
    revert_changes,
    rollback_state,
)

NODE = ResourceState("node", 1, {"ip": "10.0.0.1"}, {}, {"node": "n1"})
K1 = ResourceState("svc", 1, {"ip": "10.0.0.1"}, {"ip": "node.ip"}, {"node": "n1"})
K2 = ResourceState("svc", 1, {"ip": "10.0.0.2"}, {}, {"node": "n2"})
LB_BOTH = ResourceState(
    "lb", 1, {"backends": ["10.0.0.1", "x", "10.0.0.2"]}, {"backends": ["k1.ip", None, "k2.ip"]}
)
LB_K2 = ResourceState("lb", 1, {"backends": ["x", "10.0.0.2"]}, {"backends": [None, "k2.ip"]})


def commits_for(before: dict[str, ResourceState], after: dict[str, ResourceState]) -> list[Commit]:
    """The commits of applying ``stage_changes(before, after)``, removals last."""
    changes = stage_changes(before, after)
    order = sorted(changes, key=lambda n: (changes[n].action.value == "remove", n))
    commits, previous = [], GENESIS_HASH
    for rev, name in enumerate(order, 1):
        commit = build_commit(
            changes[name],
            rev=rev,
            apply_id=1,
            principal="p",
            timestamp="t",
            message="",
            previous_hash=previous,
        )
        commits.append(commit)
        previous = commit.hash
    return commits


def test_a_removed_list_element_goes_back_to_its_position() -> None:
    """k1 comes back first in the backends, before the literal and k2."""
    assert reconnected(LB_K2, "k1", {"backends": ["k1.ip", None, "k2.ip"]}) == ResourceState(
        "lb", 1, {"backends": [None, "x", "10.0.0.2"]}, {"backends": ["k1.ip", None, "k2.ip"]}
    )


def test_reconnecting_skips_present_refs_and_missing_inputs() -> None:
    """An element already there, or an input the consumer lost, leaves the consumer as it is."""
    assert reconnected(LB_BOTH, "k1", {"backends": ["k1.ip"]}) is LB_BOTH
    assert reconnected(LB_K2, "k1", {"servers": ["k1.ip"]}) is LB_K2


def test_a_whole_input_connection_is_set_back() -> None:
    """A consumer that took k1.ip as a whole input is connected to it again."""
    literal = ResourceState("svc", 1, {"ip": "9.9.9.9"}, {}, {})
    assert reconnected(literal, "k1", {"ip": "k1.ip"}).connections == {"ip": "k1.ip"}


def test_reverting_a_removal_restores_both_directions() -> None:
    """Undoing k1's removal alone re-creates it from node.ip and puts it back in lb."""
    before = {"node": NODE, "k1": K1, "k2": K2, "lb": LB_BOTH}
    after = {"node": NODE, "k2": K2, "lb": LB_K2}
    removal = next(c for c in commits_for(before, after) if c.resource == "k1")
    changes = revert_changes(after, [removal])
    assert changes["k1"].after == K1 and changes["k1"].reverts == (removal.rev,)
    assert changes["lb"].after == LB_BOTH and changes["lb"].reverts == ()


def test_a_stale_value_and_a_moved_connection_are_conflicts() -> None:
    """Values and connections the commit set must still be there."""
    (update,) = commits_for({"k1": K1, "node": NODE}, {"k1": K2, "node": NODE})
    with pytest.raises(ConflictError, match=r"k1\.ip is \"10\.0\.0\.3\" now") as caught:
        check_matches(update, ResourceState("svc", 1, {"ip": "10.0.0.3"}, {}, {}))
    assert (caught.value.expected, caught.value.current) == ("10.0.0.2", "10.0.0.3")
    with pytest.raises(ConflictError, match=r"connected from \$\{node\.ip\} now"):
        check_matches(update, ResourceState("svc", 1, {"ip": "10.0.0.2"}, {"ip": "node.ip"}, {}))


def test_an_input_the_commit_dropped_must_still_be_absent() -> None:
    """A type change that dropped an input expects it absent; a value there is a conflict."""
    old = ResourceState("svc", 1, {"ip": "a", "legacy": None}, {}, {})
    new = ResourceState("svc", 1, {"ip": "a"}, {}, {})
    (update,) = commits_for({"r": old}, {"r": new})
    check_matches(update, new)
    with pytest.raises(ConflictError, match="the revert expects absent"):
        check_matches(update, old)
    assert revert_changes({"r": new}, [update])["r"].after == old


def test_tags_and_connections_are_set_back_only_where_the_commit_changed_them() -> None:
    """A tag added later by someone else survives the revert of an earlier tag change."""
    tagged = ResourceState("svc", 1, {"ip": "a"}, {}, {"node": "n2"})
    (update,) = commits_for(
        {"r": ResourceState("svc", 1, {"ip": "a"}, {}, {"node": "n1"})}, {"r": tagged}
    )
    later = ResourceState("svc", 1, {"ip": "a"}, {}, {"node": "n2", "team": "x"})
    change = revert_changes({"r": later}, [update])["r"]
    assert change.after is not None and change.after.tags == {"node": "n1", "team": "x"}


def test_rollback_of_a_selection_keeps_the_rest_and_refuses_to_strand_a_consumer() -> None:
    """Going back for n1 only re-creates k1; removing k2 under lb is refused."""
    past = {"node": NODE, "k1": K1}
    current = {"node": NODE, "k2": K2, "lb": LB_K2}
    desired = rollback_state(current, past, {"node", "k1"})
    assert set(desired) == {"node", "k1", "k2", "lb"} and desired["lb"] == LB_K2
    with pytest.raises(ConflictError, match=r"lb\.backends would be connected to \$\{k2\.ip\}"):
        rollback_state(current, past, {"k2"})
