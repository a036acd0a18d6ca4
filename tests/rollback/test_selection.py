"""Selecting resources by name and tag: different keys AND, one key's values OR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrograde.errors import NotFoundError
from retrograde.model.state import ResourceState
from retrograde.planning.selection import Selection, parse_tag
from tests.rollback.conftest import Invoke
from tests.rollback.stacks import TYPES, write

NODE = ResourceState("node", 1, {"ip": "10.0.0.1"}, {}, {"node": "n1"})
K1 = ResourceState("svc", 1, {"ip": "10.0.0.1"}, {"ip": "node.ip"}, {"node": "n1"})
K2 = ResourceState("svc", 1, {"ip": "10.0.0.2"}, {}, {"node": "n2"})


def test_different_keys_must_all_match() -> None:
    """node=n1 and role=db selects only what has both tags."""
    both = Selection.of(tags=[("node", "n1"), ("role", "db")])
    assert both.matches("a", {"node": "n1", "role": "db", "rack": "3"})
    assert not both.matches("b", {"node": "n1", "role": "web"})
    assert not both.matches("c", {"node": "n1"})


def test_a_repeated_key_matches_any_of_its_values() -> None:
    """node=n1 twice with node=n2 is either node, never only the last one given."""
    either = Selection.of(tags=[("node", "n1"), ("node", "n2"), ("node", "n1")])
    assert either.tags == {"node": frozenset({"n1", "n2"})}
    assert either.matches("a", {"node": "n1"}) and either.matches("b", {"node": "n2"})
    assert not either.matches("c", {"node": "n3"}) and not either.matches("d", {})


def test_keys_and_while_values_of_one_key_or() -> None:
    """(node n1 or n2) and role db."""
    mixed = Selection.of(tags=[("node", "n1"), ("role", "db"), ("node", "n2")])
    assert mixed.matches("a", {"node": "n2", "role": "db"})
    assert not mixed.matches("b", {"node": "n2", "role": "web"})


def test_names_add_to_tags_and_an_empty_selection_is_everything() -> None:
    """A named resource is selected whatever its tags; nothing given selects all."""
    named = Selection.of(["k2"], {"node": "n1"})
    assert named.matches("k2", {"node": "n2"}) and named.matches("k1", {"node": "n1"})
    assert not named.matches("other", {"node": "n2"})
    assert Selection.of().everything and Selection.of().matches("any", {})
    assert not named.everything


def test_pick_looks_now_and_then_and_names_must_exist() -> None:
    """A resource tagged node=n1 only in the past is picked; an unknown name is an error."""
    current = {"node": NODE, "k2": K2}
    past = {"node": NODE, "k1": K1}
    assert Selection.of(tags={"node": "n1"}).pick(current, past) == {"node", "k1"}
    assert Selection.of(["k2"]).pick(current, past) == {"k2"}
    assert Selection.of(tags=[("node", "n1"), ("node", "n2")]).pick(current, past) == {
        "node",
        "k1",
        "k2",
    }
    with pytest.raises(NotFoundError) as raised:
        Selection.of(["ghost"]).pick(current, past)
    assert raised.value.name == "ghost"


def test_parse_tag_splits_at_the_first_equals_sign() -> None:
    """KEY=VALUE; the value may be empty or hold '='; no '=' or no key is a ValueError."""
    assert parse_tag("node=n1") == ("node", "n1")
    assert parse_tag("role=") == ("role", "")
    assert parse_tag("url=a=b") == ("url", "a=b")
    for bad in ("node", "=n1"):
        with pytest.raises(ValueError, match="is not KEY=VALUE"):
            parse_tag(bad)


def _tagged_stack(ip: str) -> str:
    """Three nodes tagged by node and role, all at address ``ip``."""
    tagged = {"a": ("n1", "db"), "b": ("n1", "web"), "c": ("n2", "db")}
    lines = [
        f"  {name}: {{type: node, tags: {{node: {node}, role: {role}}}, inputs: {{ip: {ip}}}}}"
        for name, (node, role) in tagged.items()
    ]
    return TYPES + "resources:\n" + "\n".join(lines) + "\n"


@pytest.fixture
def changed(invoke: Invoke, tmp_path: Path) -> Invoke:
    """Nodes a, b, c applied at 10.0.0.1 (checkpoint ``v1``), then all moved to 10.0.0.2."""
    write(tmp_path, "v1.yaml", _tagged_stack("10.0.0.1"))
    write(tmp_path, "v2.yaml", _tagged_stack("10.0.0.2"))
    assert invoke("apply", "v1.yaml", "--yes").exit_code == 0
    assert invoke("checkpoint", "v1").exit_code == 0
    assert invoke("apply", "v2.yaml", "--yes").exit_code == 0
    return invoke


def _rolled_back(invoke: Invoke, *tags: str) -> set[str]:
    args = [arg for tag in tags for arg in ("--tag", tag)]
    result = invoke("rollback", "v1", *args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    return set(json.loads(result.output)["changes"])


def test_rollback_tags_of_two_keys_and(changed: Invoke) -> None:
    """--tag node=n1 --tag role=db takes back only what has both tags."""
    assert _rolled_back(changed, "node=n1", "role=db") == {"a"}
    assert _rolled_back(changed, "role=db", "node=n2") == {"c"}


def test_rollback_tags_of_one_key_or(changed: Invoke) -> None:
    """A repeated key takes any of its values, whichever comes last; nothing is staged."""
    assert _rolled_back(changed, "node=n1", "node=n2") == {"a", "b", "c"}
    assert _rolled_back(changed, "role=web", "node=n1", "role=db") == {"a", "b"}
    assert json.loads(changed("diff", "--json").output)["changes"] == {}


def test_rollback_stages_exactly_the_selection(changed: Invoke) -> None:
    """Without --dry-run the staged log holds the selected resources' way back, at the old ip."""
    assert changed("rollback", "v1", "--tag", "node=n1", "--tag", "role=db").exit_code == 0
    staged = json.loads(changed("diff", "--json").output)["changes"]
    assert staged == {
        "a": {"action": "update", "diff": {"ip": {"from": "10.0.0.2", "to": "10.0.0.1"}}}
    }
