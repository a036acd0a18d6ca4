"""Migration steps between type versions, tested from literals (pure planning)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from retrograde.commands.migration_steps import StepRegistry
from retrograde.errors import MigrationStepError
from retrograde.model.change import ActionName
from retrograde.model.state import ResourceState
from retrograde.model.types import InputSpec, ResourceType
from retrograde.planning.type_migrations import (
    MigrationPlanner,
    compile_migrations,
    migrate_state,
    migration_path,
    version_migrations,
)


def service(version: int, *steps: dict[str, Any]) -> ResourceType:
    return ResourceType(
        name="service",
        version=version,
        inputs={"address": InputSpec("address")},
        actions={},
        migrations=tuple(steps),
    )


KEYSTONE = ResourceState(
    type="service",
    version=1,
    inputs={"ip": "10.0.0.1", "legacy": True, "backends": ["a", "b"]},
    connections={"ip": "node1.ip", "legacy": "node1.flag"},
    tags={"node": "node1"},
)


def migrate(rtype: ResourceType, registry: StepRegistry | None = None) -> ResourceState:
    path = migration_path(compile_migrations(rtype), 1, rtype.version)
    assert path is not None
    return migrate_state("keystone1", KEYSTONE, path, registry or StepRegistry())


def test_rename_moves_the_value_and_its_connection() -> None:
    """rename takes an input's value and connection to its new name."""
    migrated = migrate(service(2, {"from": 1, "to": 2, "rename": {"ip": "address"}}))
    assert migrated.version == 2
    assert migrated.inputs == {"address": "10.0.0.1", "legacy": True, "backends": ["a", "b"]}
    assert migrated.connections == {"address": "node1.ip", "legacy": "node1.flag"}
    assert migrated.tags == {"node": "node1"}


def test_default_sets_only_absent_inputs() -> None:
    """default fills inputs that are missing and keeps values that are there."""
    migrated = migrate(service(2, {"from": 1, "to": 2, "default": {"port": 5000, "ip": "x"}}))
    assert migrated.inputs["port"] == 5000
    assert migrated.inputs["ip"] == "10.0.0.1"


def test_drop_removes_inputs_and_their_connections() -> None:
    """drop takes an input (a name or a list of names) and its connection away."""
    migrated = migrate(service(2, {"from": 1, "to": 2, "drop": ["legacy", "backends"]}))
    assert migrated.inputs == {"ip": "10.0.0.1"}
    assert migrated.connections == {"ip": "node1.ip"}


def test_steps_run_in_order_along_a_path_of_several_versions() -> None:
    """Hops 1->2->3 chain, each hop's steps in the order written."""
    rtype = service(
        3,
        {"from": 2, "to": 3, "drop": "legacy"},
        {"from": 1, "to": 2, "rename": {"ip": "address"}},
        {"from": 1, "to": 2, "default": {"ip": "new"}},
    )
    migrated = migrate(rtype)
    assert migrated.inputs == {"address": "10.0.0.1", "ip": "new", "backends": ["a", "b"]}
    assert migrated.version == 3


def test_the_shortest_path_wins_and_a_missing_one_is_none() -> None:
    """A direct hop beats two; versions without hops between them have no path."""
    hops = compile_migrations(
        service(3, {"from": 1, "to": 2}, {"from": 2, "to": 3}, {"from": 1, "to": 3})
    )
    path = migration_path(hops, 1, 3)
    assert path is not None
    assert [(hop.source, hop.target) for hop in path] == [(1, 3)]
    assert migration_path(hops, 3, 1) is None
    assert migration_path(hops, 2, 2) == []


def upgrade(inputs: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A python step: joins host and port into an endpoint."""
    inputs["endpoint"] = f"{inputs.pop('ip')}:{context['args']['port']}"
    inputs["seen"] = [context["resource"], context["type"], context["from"], context["to"]]
    return inputs


def test_a_python_step_gets_the_inputs_and_the_context() -> None:
    """python: module:function receives a copy of the inputs and resource, type, versions, args."""
    step = {"from": 1, "to": 2, "python": f"{__name__}:upgrade", "args": {"port": 35357}}
    migrated = migrate(service(2, step))
    assert migrated.inputs["endpoint"] == "10.0.0.1:35357"
    assert migrated.inputs["seen"] == ["keystone1", "service", 1, 2]
    assert "ip" not in migrated.connections
    assert KEYSTONE.inputs["ip"] == "10.0.0.1"


def test_a_registered_step_is_found_by_name() -> None:
    """step: NAME calls the function registered under that name."""
    registry = StepRegistry({"upper": lambda inputs, context: {"ip": inputs["ip"].upper()}})
    migrated = migrate(service(2, {"from": 1, "to": 2, "step": "upper"}), registry)
    assert migrated.inputs == {"ip": "10.0.0.1"}


def test_an_installed_entry_point_is_a_named_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package registering under retrograde.migrations provides a step by name."""
    (tmp_path / "demo_steps.py").write_text(
        "def tag(inputs, context):\n    return {**inputs, 'tagged': context['args']['tag']}\n"
    )
    info = tmp_path / "demo_steps-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-steps\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[retrograde.migrations]\ntag-it = demo_steps:tag\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "demo_steps", raising=False)
    step = {"from": 1, "to": 2, "step": "tag-it", "args": {"tag": "v2"}}
    migrated = migrate(service(2, step), StepRegistry.installed())
    assert migrated.inputs["tagged"] == "v2"
    assert "tag-it" in StepRegistry.installed().names()


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (
            {"rename": {"a": "b"}, "drop": "c"},
            "a step holds rename and drop; write one step for each",
        ),
        (
            {"renam": {"a": "b"}},
            "unknown key 'renam'; a step may hold one of rename, default, drop, python, step",
        ),
        ({"rename": ["a"]}, "'rename' must map input names to new input names"),
        ({"drop": 3}, "'drop' must be an input name or a list of input names"),
        (
            {"default": {"a": 1}, "args": {"x": 1}},
            "'args' must be a mapping, given with a 'python' or 'step' step",
        ),
    ],
)
def test_malformed_steps_are_refused_naming_type_and_versions(
    step: dict[str, Any], problem: str
) -> None:
    """A malformed step is a MigrationStepError naming the type, both versions and the problem."""
    with pytest.raises(MigrationStepError) as refused:
        compile_migrations(service(2, {"from": 1, "to": 2, **step}))
    assert str(refused.value) == f"migration of type 'service' from version 1 to 2: {problem}"


def test_a_failing_or_missing_code_step_names_the_resource() -> None:
    """A code step that raises, or that is not registered, is refused naming resource and step."""

    def broken(inputs: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no ip")

    registry = StepRegistry({"broken": broken})
    with pytest.raises(MigrationStepError) as raised:
        migrate(service(2, {"from": 1, "to": 2, "step": "broken"}), registry)
    assert str(raised.value) == (
        "migration of type 'service' from version 1 to 2 for resource 'keystone1': "
        "step broken: raised ValueError: no ip"
    )
    with pytest.raises(MigrationStepError) as missing:
        migrate(service(2, {"from": 1, "to": 2, "step": "nowhere"}), registry)
    assert str(missing.value).endswith(
        "step nowhere: no migration step is registered as 'nowhere' (broken)"
    )


def test_version_migrations_take_committed_resources_to_the_new_version() -> None:
    """Only resources whose version changed and that have a path become migrate changes."""
    rtype = service(2, {"from": 1, "to": 2, "rename": {"ip": "address"}})
    other = ResourceState("node", 1, {"ip": "10.0.0.1"})
    committed = {"keystone1": KEYSTONE, "node1": other}
    desired = {"keystone1": ResourceState("service", 2, {"address": "10.0.0.1"}), "node1": other}
    planner = MigrationPlanner({"service": rtype}, StepRegistry())
    (change,) = version_migrations(committed, desired, planner)
    assert (change.resource, change.action) == ("keystone1", ActionName.MIGRATE)
    assert change.before == KEYSTONE
    assert change.after is not None and change.after.version == 2
    assert change.diff == {
        "address": {"from": None, "to": "10.0.0.1", "absent": "from"},
        "ip": {"from": "10.0.0.1", "to": None, "absent": "to"},
    }
    unreachable = MigrationPlanner({"service": service(2)}, StepRegistry())
    assert version_migrations(committed, desired, unreachable) == []
