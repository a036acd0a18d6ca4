"""Resuming against a stack file: removed, added, changed versions, migrations."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import retrograde
from retrograde.commands.migration_steps import StepRegistry
from retrograde.errors import MigrationPathError, StateError
from retrograde.model.apply import ApplyStatus
from tests import store_calls

from .consistency import all_commits, check_consistent, statuses
from .processes import run
from .stacks import actions_run, deployment, write

SERVICE_V1 = """  service:
    version: 1
    inputs:
      ip: {type: string}
      port: {type: integer, default: 5000}
    actions: *actions
"""
SERVICE_V2 = SERVICE_V1.replace("version: 1", "version: 2").replace("ip:", "address:")
MIGRATION = "    migrations:\n      - {from: 1, to: 2, rename: {ip: address}}\n"


def interrupted(store_url: str, tmp_path: Path) -> None:
    """A real apply killed right after node1's commit: keystone1/2 started, haproxy pending."""
    write(tmp_path, "stack.yaml", deployment())
    died = run(
        store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT="after-commit:node1"
    )
    assert died.returncode == -9


def service_v2(text: str, *, migrations: bool = True) -> str:
    """``text`` with service at version 2, its input ``ip`` renamed ``address``."""
    assert SERVICE_V1 in text
    text = text.replace(SERVICE_V1, SERVICE_V2 + (MIGRATION if migrations else ""))
    text = text.replace('ip: "${node1.ip}"', 'address: "${node1.ip}"')
    return text.replace("${keystone1.ip}", "${keystone1.address}").replace(
        "${keystone2.ip}", "${keystone2.address}"
    )


def test_removed_then_added_then_changed_are_resolved_and_reported_in_order(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """keystone2 gone, keystone3 new, service v1 -> v2: dropped, added, migrated, each reported."""
    interrupted(store_url, tmp_path)
    text = service_v2(deployment())
    text = text.replace("  keystone2: {type: service", "  keystone3: {type: service")
    text = text.replace("${keystone2.address}", "${keystone3.address}")
    result = retrograde.resume(ctx, write(tmp_path, "v2.yaml", text))
    assert [step.to_json() for step in result.resumption] == [
        {
            "kind": "removed",
            "resource": "keystone2",
            "action": "run",
            "type": "service",
            "detail": "the stack file stages no change for it any more; it was in flight "
            "when the apply stopped, and whatever it did is not recorded",
        },
        {
            "kind": "added",
            "resource": "keystone3",
            "action": "run",
            "type": "service",
            "detail": "joins the plan (service v2)",
        },
        {
            "kind": "changed",
            "resource": "keystone1",
            "action": "run",
            "type": "service",
            "detail": "v1 -> v2 by migration v1 -> v2 (rename ip -> address)",
        },
    ]
    assert result.report.status is ApplyStatus.SUCCEEDED
    assert result.report.apply_id == 1
    tasks = check_consistent(ctx.store, 1)
    assert statuses(tasks) == dict.fromkeys(["haproxy", "keystone1", "keystone3", "node1"], "done")
    assert tasks["keystone1"].version == 2
    assert Counter(c.resource for c in all_commits(ctx.store)) == Counter(
        ["node1", "keystone1", "keystone3", "haproxy"]
    )
    keystone1 = retrograde.state(ctx, "keystone1").resources["keystone1"]
    assert (keystone1.version, dict(keystone1.inputs)) == (2, {"address": "10.0.0.1", "port": 5000})
    assert "run keystone2" not in actions_run(tmp_path)


def test_a_changed_version_without_a_migration_path_is_refused(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """Resume names resource, type and both versions, and writes nothing."""
    interrupted(store_url, tmp_path)
    staged_before = store_calls.load_staged(ctx.store)
    path = write(tmp_path, "v2.yaml", service_v2(deployment(), migrations=False))
    with pytest.raises(MigrationPathError) as refused:
        retrograde.resume(ctx, path)
    assert str(refused.value) == (
        "cannot resume apply 1: resource 'keystone1' of type 'service' was planned at "
        "version 1 and is at version 2 now, and the type declares no migration from version 1 to 2"
    )
    assert store_calls.load_staged(ctx.store) == staged_before
    assert store_calls.head(ctx.store)[0] == 1
    assert store_calls.get_apply(ctx.store, 1).status is ApplyStatus.INTERRUPTED
    cli = run(store_url, tmp_path, "resume", "v2.yaml")
    assert (cli.returncode, cli.stderr) == (1, f"error: {refused.value}\n")


def test_committed_inputs_migrate_first_and_a_finished_resource_stays_staged(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """node v2 migrates node1's committed inputs; its new change waits for the next apply."""
    interrupted(store_url, tmp_path)
    text = deployment().replace(
        "  node:\n    version: 1\n    inputs:\n      ip: {type: string}",
        "  node:\n    version: 2\n    inputs:\n      ip: {type: string}\n"
        "      zone: {type: string, default: a}\n"
        "    migrations: [{from: 1, to: 2, default: {zone: a}}]",
    )
    text = text.replace("inputs: {ip: 10.0.0.1}", "inputs: {ip: 10.0.0.1, zone: b}")
    result = retrograde.resume(ctx, write(tmp_path, "v2.yaml", text))
    (migrated,) = result.migrations
    assert (migrated.resource, migrated.action.value, migrated.version) == ("node1", "migrate", 2)
    assert migrated.diff == {"zone": {"from": None, "to": "a", "absent": "from"}}
    assert [(s.kind, s.resource, s.detail) for s in result.resumption] == [
        ("staged", "node1", "its action already finished in apply 1; the change stays staged")
    ]
    assert result.report.status is ApplyStatus.SUCCEEDED
    assert result.rerun == ("keystone1", "keystone2")
    staged = store_calls.load_staged(ctx.store)
    assert list(staged) == ["node1"]
    assert staged["node1"].diff == {"zone": {"from": "a", "to": "b"}}


def test_resume_without_an_interrupted_apply_says_so(ctx: retrograde.Context) -> None:
    """Nothing to resume is a one-line error."""
    with pytest.raises(StateError) as refused:
        retrograde.resume(ctx)
    assert str(refused.value) == "nothing to resume: no apply was interrupted"


def test_discard_abandons_the_interrupted_apply(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """discard ends the interrupted apply as failed, keeps its commits, and frees the store."""
    interrupted(store_url, tmp_path)
    assert retrograde.discard(ctx) == ["haproxy", "keystone1", "keystone2"]
    record = store_calls.get_apply(ctx.store, 1)
    assert (record.status, record.succeeded, record.skipped) == (ApplyStatus.FAILED, 1, 3)
    assert statuses({t.resource: t for t in store_calls.load_tasks(ctx.store, 1)}) == {
        "haproxy": "skipped",
        "keystone1": "skipped",
        "keystone2": "skipped",
        "node1": "done",
    }
    report = retrograde.apply(ctx, tmp_path / "stack.yaml")
    assert (report.apply_id, report.status) == (2, ApplyStatus.SUCCEEDED)


def test_resume_json_reports_the_rerun_and_the_steps(store_url: str, tmp_path: Path) -> None:
    """resume --json adds rerun, resumption and migrations to the apply report."""
    interrupted(store_url, tmp_path)
    done = run(store_url, tmp_path, "resume", "--json")
    report = json.loads(done.stdout)
    assert report == {
        "apply_id": 1,
        "status": "succeeded",
        "commits": [2, 3, 4],
        "failed": [],
        "skipped": [],
        "failures": {},
        "attempts": {"keystone1": 2, "keystone2": 2},
        "rerun": ["keystone1", "keystone2"],
        "resumption": [],
        "migrations": [],
    }


def test_a_registered_step_resolves_a_changed_version(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """A changed version migrates through a step registered by name."""
    interrupted(store_url, tmp_path)
    text = service_v2(deployment()).replace(
        "{from: 1, to: 2, rename: {ip: address}}", "{from: 1, to: 2, step: to-address}"
    )
    registry = StepRegistry({"to-address": lambda inputs, context: {"address": inputs["ip"]}})
    result = retrograde.resume(ctx, write(tmp_path, "v2.yaml", text), registry=registry)
    assert [(s.kind, s.resource, s.detail) for s in result.resumption] == [
        ("changed", "keystone1", "v1 -> v2 by migration v1 -> v2 (step to-address)"),
        ("changed", "keystone2", "v1 -> v2 by migration v1 -> v2 (step to-address)"),
    ]
    assert result.report.status is ApplyStatus.SUCCEEDED


FAILING = """  failing:
    version: 1
    inputs:
      ip: {type: string}
    actions:
      run: {shell: 'echo "run {{ resource }}" >> actions.log; exit 4'}
resources:
"""


def test_what_waits_for_an_earlier_failure_is_skipped_on_resume(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """A task the stack file adds behind an action that failed before the crash is skipped."""
    stack = deployment(extra="  bad: {type: failing, inputs: {ip: 10.0.0.9}}\n")
    write(tmp_path, "stack.yaml", stack.replace("resources:\n", FAILING, 1))
    args = ("apply", "stack.yaml", "--yes", "--jobs", "1")
    died = run(store_url, tmp_path, *args, RETROGRADE_FAULT="after-commit:node1")
    assert died.returncode == -9
    assert statuses(check_consistent(ctx.store, 1))["bad"] == "failed"
    grown = stack + '  child: {type: service, inputs: {ip: "${bad.ip}"}}\n'
    result = retrograde.resume(
        ctx, write(tmp_path, "v2.yaml", grown.replace("resources:\n", FAILING, 1))
    )
    assert [(s.kind, s.resource) for s in result.resumption] == [("added", "child")]
    report = result.report
    assert (report.status, report.failed, report.skipped) == (
        ApplyStatus.FAILED,
        ("bad",),
        ("child",),
    )
    assert report.failures == {"bad": {"exit_code": 4, "error": ""}}
    tasks = check_consistent(ctx.store, 1)
    assert (tasks["bad"].status.value, tasks["child"].status.value) == ("failed", "skipped")
    assert Counter(actions_run(tmp_path))["run bad"] == 1
    assert "run child" not in actions_run(tmp_path)
    assert store_calls.get_apply(ctx.store, 1).failures == report.failures


def test_resume_against_a_stack_file_takes_its_vars(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """resume FILE reads FILE's vars from the values given: a new resource whose input is a
    var joins the plan with the var's value; without the value nothing is resumed."""
    interrupted(store_url, tmp_path)
    text = "vars:\n  ip: {type: string}\n" + deployment(
        extra='  keystone3: {type: service, inputs: {ip: "${var.ip}"}}\n'
    )
    path = write(tmp_path, "vars.yaml", text)
    before = store_calls.head(ctx.store), store_calls.load_staged(ctx.store)
    with pytest.raises(retrograde.RetrogradeError, match="var 'ip' has no value"):
        retrograde.resume(ctx, path)
    assert (store_calls.head(ctx.store), store_calls.load_staged(ctx.store)) == before
    given = retrograde.StackVars([("ip", "10.9.9.9")])
    result = retrograde.resume(ctx, path, stack_vars=given)
    assert result.report.status is ApplyStatus.SUCCEEDED
    assert store_calls.load_state(ctx.store)["keystone3"].inputs["ip"] == "10.9.9.9"
