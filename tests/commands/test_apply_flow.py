"""Stage, plan and apply with real shell handlers, on every store back end."""

from __future__ import annotations

import json
from pathlib import Path

import retrograde
from tests import store_calls
from tests.commands.stacks import V1, V1_NEW_IP, V2, actions_run, write
from tests.storage.samples import chain_breaks


def test_keystone_move_is_three_actions_in_order(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Moving keystone plans and runs exactly run keystone2, update haproxy, remove keystone1."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), message="v1")
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    assert retrograde.plan(ctx).to_json() == {
        "actions": [
            {"resource": "keystone2", "action": "run", "after": []},
            {"resource": "haproxy", "action": "update", "after": ["keystone2"]},
            {"resource": "keystone1", "action": "remove", "after": ["haproxy"]},
        ]
    }
    before = len(actions_run(tmp_path))
    report = retrograde.apply(ctx, jobs=4, message="move keystone")
    assert report.status is retrograde.ApplyStatus.SUCCEEDED
    assert actions_run(tmp_path)[before:] == [
        "run keystone2",
        "update haproxy",
        "remove keystone1",
    ]
    assert set(retrograde.state(ctx).resources) == {"node1", "node2", "keystone2", "haproxy"}


def test_first_apply_runs_producers_before_consumers(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """The first apply runs every resource once, each after what it is connected from."""
    report = retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    ran = actions_run(tmp_path)
    assert sorted(ran) == ["run haproxy", "run keystone1", "run node1", "run node2"]
    assert ran.index("run node1") < ran.index("run keystone1") < ran.index("run haproxy")
    assert report.commits == (1, 2, 3, 4)
    assert retrograde.diff(ctx) == {}


def test_changing_node_ip_stages_consumers_transitively(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A new node1.ip stages node1, keystone1 and haproxy; handlers get the new value."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    changes = retrograde.stage(ctx, write(tmp_path, "v1b.yaml", V1_NEW_IP))
    assert sorted(changes) == ["haproxy", "keystone1", "node1"]
    assert changes["keystone1"].diff == {"ip": {"from": "10.20.0.2", "to": "10.20.0.12"}}
    assert changes["haproxy"].diff == {"backends": {"from": ["10.20.0.2"], "to": ["10.20.0.12"]}}
    retrograde.apply(ctx)
    received = json.loads((tmp_path / "haproxy.update.json").read_text())
    assert received["inputs"] == {"backends": ["10.20.0.12"]}
    assert received["previous"] == {"backends": ["10.20.0.2"]}
    assert received["action"] == "update"
    assert received["diff"] == {"backends": {"from": ["10.20.0.2"], "to": ["10.20.0.12"]}}


def test_handler_stdin_is_the_documented_document(ctx: retrograde.Context, tmp_path: Path) -> None:
    """A run handler receives action, resource, type, inputs, previous=null, diff, apply_id."""
    report = retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    received = json.loads((tmp_path / "keystone1.run.json").read_text())
    assert received == {
        "action": "run",
        "resource": "keystone1",
        "type": "service",
        "inputs": {"ip": "10.20.0.2", "port": 5000, "password": "s3cret"},
        "previous": None,
        "diff": {
            "ip": {"from": None, "to": "10.20.0.2"},
            "password": {"from": None, "to": "s3cret"},
            "port": {"from": None, "to": 5000},
        },
        "apply_id": report.apply_id,
    }


def test_commits_carry_every_field_and_chain_by_hash(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Each commit has the fields docs/design.md lists; its hash chains onto the element
    before it (a commit, or a chain entry such as the apply's begin)."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), message="first")
    report = retrograde.apply(ctx, write(tmp_path, "v2.yaml", V2), message="move")
    commits = list(reversed(retrograde.log(ctx)))
    assert [c.rev for c in commits] == list(range(1, 8))
    assert chain_breaks(commits, store_calls.chain_entries(ctx.store)) == []
    for commit in commits:
        assert commit.principal == "tester"
        assert commit.timestamp.endswith("Z")
    removal = retrograde.show(ctx, report.commits[-1])
    assert removal.resource == "keystone1"
    assert removal.action is retrograde.ActionName.REMOVE
    assert removal.message == "move"
    assert removal.apply_id == report.apply_id
    assert removal.connections_json() == {
        "before": {"ip": "node1.ip"},
        "after": None,
        "consumers": {"haproxy": {"backends": ["keystone1.ip"]}},
    }
    assert removal.tags.to_json() == {"before": {"node": "node1"}, "after": None}
    assert removal.reverse["ip"] == {"from": None, "to": "10.20.0.2"}
    assert (removal.type, removal.version) == ("service", 1)
