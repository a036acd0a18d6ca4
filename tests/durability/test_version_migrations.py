"""Version migrations on stage: committed inputs move to the new type version as migrate commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import retrograde
from retrograde.commands import rollback, staging
from retrograde.errors import MigrationStepError
from retrograde.model.change import ActionName
from tests import store_calls

from .processes import run
from .stacks import actions_run, write

V1 = """
types:
  service:
    version: 1
    inputs:
      ip: {type: string}
      legacy: {type: boolean, default: true}
    actions:
      update: {shell: 'echo "update {{ resource }}" >> actions.log'}
  node:
    version: 1
    inputs:
      ip: {type: string}
resources:
  node1: {type: node, inputs: {ip: 10.0.0.1}}
  keystone1: {type: service, inputs: {ip: "${node1.ip}"}}
"""

V2 = """
types:
  service:
    version: 2
    inputs:
      address: {type: string}
      weight: {type: integer, default: 1}
    actions:
      update: {shell: 'echo "update {{ resource }}" >> actions.log'}
    migrations:
      - {from: 1, to: 2, rename: {ip: address}}
      - {from: 1, to: 2, default: {weight: 1}}
      - {from: 1, to: 2, drop: legacy}
  node:
    version: 1
    inputs:
      ip: {type: string}
resources:
  node1: {type: node, inputs: {ip: 10.0.0.1}}
  keystone1: {type: service, inputs: {address: "${node1.ip}"}}
"""


def test_staging_a_new_version_writes_a_migrate_commit_and_runs_no_handler(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Committed inputs are renamed, defaulted and dropped as one migrate commit per resource."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    staged = staging.stage_file(ctx, write(tmp_path, "v2.yaml", V2))
    (commit,) = staged.migrations
    assert (commit.rev, commit.resource, commit.action) == (3, "keystone1", ActionName.MIGRATE)
    assert (commit.type, commit.version, commit.apply_id) == ("service", 2, 2)
    assert commit.diff == {
        "address": {"from": None, "to": "10.0.0.1", "absent": "from"},
        "ip": {"from": "10.0.0.1", "to": None, "absent": "to"},
        "legacy": {"from": True, "to": None, "absent": "to"},
        "weight": {"from": None, "to": 1, "absent": "from"},
    }
    assert commit.reverse["ip"] == {"from": None, "to": "10.0.0.1", "absent": "from"}
    assert commit.connections_json() == {
        "before": {"ip": "node1.ip"},
        "after": {"address": "node1.ip"},
    }
    assert staged.changes == {}  # the migrated state is what v2 wants
    state = retrograde.state(ctx, "keystone1").resources["keystone1"]
    assert (state.version, dict(state.inputs)) == (2, {"address": "10.0.0.1", "weight": 1})
    assert store_calls.get_commit(ctx.store, 3) == commit
    migration_apply = store_calls.get_apply(ctx.store, 2)
    assert (migration_apply.status.value, migration_apply.succeeded) == ("succeeded", 1)
    assert actions_run(tmp_path) == []


def test_a_migrate_commit_can_be_rolled_back(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Rolling back to the revision before the migrate commit restores version 1 and its inputs."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    rollback.rollback(ctx, 2)
    retrograde.apply(ctx, message="back to v1")
    state = retrograde.state(ctx, "keystone1").resources["keystone1"]
    assert (state.version, dict(state.inputs)) == (1, {"ip": "10.0.0.1", "legacy": True})
    assert dict(state.connections) == {"ip": "node1.ip"}
    assert actions_run(tmp_path) == ["update keystone1"]


def test_a_version_without_a_migration_path_is_a_plain_update(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """Without migrations, a raised version stages an ordinary update and writes no commit."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    no_path = V2[: V2.index("    migrations:")] + V2[V2.index("  node:") :]
    staged = staging.stage_file(ctx, write(tmp_path, "v2.yaml", no_path))
    assert staged.migrations == ()
    assert staged.changes["keystone1"].action is ActionName.UPDATE
    assert store_calls.head(ctx.store)[0] == 2


def test_a_bad_step_refuses_staging_and_writes_nothing(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A failing python step stops stage before any commit or staged change is written."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    broken = V2.replace("{from: 1, to: 2, drop: legacy}", '{from: 1, to: 2, python: "json:nope"}')
    with pytest.raises(MigrationStepError) as refused:
        retrograde.stage(ctx, write(tmp_path, "v2.yaml", broken))
    assert str(refused.value).startswith(
        "migration of type 'service' from version 1 to 2 for resource 'keystone1': "
        "python json:nope: cannot load 'json:nope': AttributeError"
    )
    assert store_calls.head(ctx.store)[0] == 2
    assert store_calls.load_staged(ctx.store) == {}


def test_stage_json_lists_the_migrate_commits(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """stage --json adds the migrate commits, in the log's COMMIT shape, to the staged changes."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    write(tmp_path, "v2.yaml", V2)
    view = json.loads(run(store_url, tmp_path, "stage", "v2.yaml", "--json").stdout)
    assert view["changes"] == {}
    assert [(c["rev"], c["action"], c["resource"]) for c in view["migrations"]] == [
        (3, "migrate", "keystone1")
    ]


def test_a_migrate_commit_can_be_reverted(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Reverting the migrate commit takes inputs, connections and version back to version 1."""
    retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1))
    retrograde.stage(ctx, write(tmp_path, "v2.yaml", V2))
    rollback.revert(ctx, [3])
    retrograde.apply(ctx, message="undo the migration")
    state = retrograde.state(ctx, "keystone1").resources["keystone1"]
    assert (state.version, dict(state.inputs)) == (1, {"ip": "10.0.0.1", "legacy": True})
    assert dict(state.connections) == {"ip": "node1.ip"}
    assert store_calls.get_commit(ctx.store, 4).reverts == (3,)
