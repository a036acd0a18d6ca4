"""Routing over real workers: each action runs on the worker of its queue, one commit each."""

from __future__ import annotations

import retrograde
from retrograde.model.apply import ApplyStatus
from tests.celery.stacks import ROUTED, root_copy, stack_dir
from tests.celery.workers import Workers
from tests.store_calls import get_commits, head, load_staged


def test_route_by_node_runs_each_action_on_its_nodes_worker(
    ctx: retrograde.Context, celery_workers: Workers
) -> None:
    """With `route_by: node`, node1's resources run on the node1 worker under its root."""
    node1, node2 = celery_workers.queue("node1"), celery_workers.queue("node2")
    stack = stack_dir(ctx.cwd, ROUTED.format(node1=node1, node2=node2))
    roots = {name: root_copy(stack, name) for name in ("w1", "w2")}
    celery_workers.start("w1", roots["w1"], node1)
    celery_workers.start("w2", roots["w2"], node2)

    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery", jobs=4)

    assert report.status is ApplyStatus.SUCCEEDED, report.failures
    assert (roots["w1"] / "ran-a").read_text() == "w1\n"
    assert (roots["w1"] / "ran-c").read_text() == "w1\n"
    assert (roots["w2"] / "ran-b").read_text() == "w2\n"
    assert not (roots["w2"] / "ran-a").exists() and not (roots["w1"] / "ran-b").exists()
    assert not (stack / "ran-a").exists()  # nothing ran on the coordinator
    assert sorted(c.resource for c in get_commits(ctx.store, report.commits)) == ["a", "b", "c"]
    assert head(ctx.store)[0] == 3 and not load_staged(ctx.store)


def test_a_worker_whose_root_differs_refuses_naming_the_file(
    ctx: retrograde.Context, celery_workers: Workers
) -> None:
    """A changed handler file in the worker's copy fails the action, which stays staged."""
    node1, node2 = celery_workers.queue("node1"), celery_workers.queue("node2")
    stack = stack_dir(ctx.cwd, ROUTED.format(node1=node1, node2=node2))
    good, stale = root_copy(stack, "w1"), root_copy(stack, "w2")
    (stale / "deploy.sh").write_text("echo an older script\n")
    celery_workers.start("w1", good, node1)
    celery_workers.start("w2", stale, node2)

    report = retrograde.apply(ctx, stack / "stack.yaml", executor="celery")

    assert report.status is ApplyStatus.FAILED
    assert report.failed == ("b",)
    error = str(report.failures["b"]["error"])
    assert "deploy.sh" in error and "w2" in error and "differs" in error
    assert not (stale / "ran-b").exists()
    assert sorted(c.resource for c in get_commits(ctx.store, report.commits)) == ["a", "c"]
    assert list(load_staged(ctx.store)) == ["b"]
