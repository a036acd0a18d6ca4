"""Where an action goes (pure): resource queue, type queue, route_by tag, default; the parsing."""

from __future__ import annotations

import pytest

from retrograde.errors import StackSyntaxError
from retrograde.executors.handler_files import handler_file_names
from retrograde.model.types import ResourceType
from retrograde.planning.stackfile import parse_stack


def _type(**routing: object) -> ResourceType:
    return ResourceType("t", 1, {}, {}, **routing)  # type: ignore[arg-type]


def test_the_most_specific_queue_wins() -> None:
    """Resource queue tag, then the type's queue, then the route_by tag, then None."""
    routed = _type(queue="infra", route_by="node")
    assert routed.queue_for({"queue": "mine", "node": "n1"}) == "mine"
    assert routed.queue_for({"node": "n1"}) == "infra"
    assert _type(route_by="node").queue_for({"node": "n1"}) == "n1"
    assert _type(route_by="node").queue_for({}) is None
    assert _type().queue_for({"node": "n1"}) is None


def test_a_stack_records_route_by_type_queue_files_and_resource_queue() -> None:
    """route_by reaches every type; a resource's queue: becomes its queue tag."""
    text = """
route_by: node
types:
  t: {version: 1, queue: infra, files: [lib/x.sh], actions: {run: {shell: "sh run.sh"}}}
resources:
  a: {type: t, queue: q1, tags: {node: n1}}
"""
    stack = parse_stack(text, source="s.yaml", base_dir="/stack")
    rtype = stack.types["t"]
    assert (rtype.route_by, rtype.queue, rtype.files) == ("node", "infra", ("lib/x.sh",))
    assert stack.resources["a"].tags == {"node": "n1", "queue": "q1"}
    assert ResourceType.from_json(rtype.to_json()) == rtype


@pytest.mark.parametrize("fragment", ["queue: 'bad name'", "files: [/etc/passwd]", "files: [../x]"])
def test_bad_routing_values_are_refused(fragment: str) -> None:
    text = f"types:\n  t: {{version: 1, {fragment}, actions: {{}}}}\n"
    with pytest.raises(StackSyntaxError):
        parse_stack(text, source="s.yaml", base_dir="/stack")


def test_handler_files_are_relative_names_from_files_and_the_target() -> None:
    """Relative words of the target and the type's files; never absolute paths or options."""
    request = {
        "handler": "shell",
        "target": "sh deploy.sh --conf /etc/x.conf -v && ./bin/run {{ inputs.ip }}",
        "files": ["lib/common.sh"],
    }
    names = handler_file_names(request)  # type: ignore[arg-type]
    assert names[0] == "lib/common.sh"
    assert "deploy.sh" in names and "./bin/run" in names
    assert not any(name.startswith(("/", "-")) for name in names)
