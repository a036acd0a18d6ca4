"""``plan`` shows where each action would be sent: a queue column and a per-queue count."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Invoke

ROUTED = """\
route_by: node
types:
  svc:
    version: 1
    actions: {run: {shell: "true"}, remove: {shell: "true"}}
  db:
    version: 1
    queue: databases
    actions: {run: {shell: "true"}}
resources:
  a: {type: svc, tags: {node: n1}}
  b: {type: svc, tags: {node: n2}}
  c: {type: svc, tags: {node: n1}, queue: special}
  d: {type: svc}
  e: {type: db, tags: {node: n2}}
"""

PLAIN = """\
types:
  svc: {version: 1, actions: {run: {shell: "true"}}}
resources:
  a: {type: svc, tags: {node: n1}}
"""


def _staged(invoke: Invoke, tmp_path: Path, text: str) -> None:
    (tmp_path / "stack.yaml").write_text(text)
    assert invoke("stage", "stack.yaml").exit_code == 0


def test_plan_json_names_each_actions_queue_as_apply_routes_it(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Resource queue, then type queue, then the route_by tag; null for the default queue."""
    _staged(invoke, tmp_path, ROUTED)
    view = json.loads(invoke("plan", "--json").output)
    queues = {a["resource"]: a["queue"] for a in view["actions"]}
    assert queues == {"a": "n1", "b": "n2", "c": "special", "d": None, "e": "databases"}
    assert all(set(a) == {"resource", "action", "after", "queue"} for a in view["actions"])


def test_plan_text_shows_a_queue_column_and_counts_per_queue_before_the_plan_line(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A routed stack's plan has a queue column and a ``By queue:`` line just before ``Plan:``."""
    _staged(invoke, tmp_path, ROUTED)
    lines = invoke("plan").output.splitlines()
    assert lines[1].split() == ["#", "action", "resource", "queue", "after"]
    assert lines[2].split() == ["1", "+", "run", "a", "n1", "—"]
    assert lines[-2] == (
        "By queue: 1 on databases, 1 on n1, 1 on n2, 1 on special, 1 on the default queue."
    )
    assert lines[-1].startswith("Plan: 5 to run")


def test_plan_text_of_a_stack_that_routes_nothing_has_no_queue_column(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Without queue: or route_by, the plan looks as it always did; JSON says null."""
    _staged(invoke, tmp_path, PLAIN)
    text = invoke("plan").output
    assert "queue" not in text
    assert json.loads(invoke("plan", "--json").output)["actions"][0]["queue"] is None


def test_a_saved_plan_reports_queues_without_storing_them(invoke: Invoke, tmp_path: Path) -> None:
    """``plan -o FILE --json`` shows queues; the plan file's actions keep their shape."""
    _staged(invoke, tmp_path, ROUTED)
    view = json.loads(invoke("plan", "-o", "routed.plan", "--json").output)
    assert view["actions"][0]["queue"] == "n1"
    saved = (tmp_path / "routed.plan").read_text().split("\n", 1)[1]
    assert all("queue" not in action for action in json.loads(saved)["actions"])
