"""Running ``read`` actions: requests built from committed state, run through an executor.

A read changes nothing and writes no commit, so there is no journal and no
ordering: the requests run in parallel, at most the executor's capacity at a
time (nothing queues inside it), and every result comes back as a value.

A read is given the resource's inputs in plaintext, as ``run`` is: the
caller opens committed state before it builds the request. The request
carries no secret values to mask: its output *is* the resource's inputs,
secrets included, and has to reach the comparison unchanged. What the caller
shows of it is masked there. It does name its secret inputs, so that a
remote executor sends their values sealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait

from retrograde.executors.base import Executor
from retrograde.model.apply import ActionRequest, ActionResult
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, ResourceType
from retrograde.planning.drift import READ_ACTION

Finished = Callable[[str, ActionResult], None]
"""Told of each read as it finishes (resource name, result)."""


def read_request(name: str, state: ResourceState, rtype: ResourceType) -> ActionRequest:
    """The request for ``name``'s read action (``rtype`` declares one); ``state`` in
    plaintext (what the handler is given)."""
    spec: ActionSpec = rtype.actions[READ_ACTION]
    inputs = dict(state.inputs)
    return {
        "handler": spec.handler,
        "target": spec.target,
        "cwd": rtype.base_dir,
        "timeout": spec.timeout,
        "context": {
            "action": READ_ACTION,
            "resource": name,
            "type": rtype.name,
            "inputs": inputs,
            "previous": inputs,
            "diff": {},
            "apply_id": None,
        },
        "secrets": [],
        "queue": rtype.queue_for(state.tags),
        "queue_timeout": spec.queue_timeout,
        "files": list(rtype.files),
        "secret_inputs": sorted(rtype.secrets),
    }


def run_reads(
    executor: Executor,
    requests: Mapping[str, ActionRequest] | Iterable[tuple[str, ActionRequest]],
    finished: Finished | None = None,
) -> dict[str, ActionResult]:
    """Every request's result by resource name, at most ``executor.capacity`` in flight."""
    pending = iter(requests.items() if isinstance(requests, Mapping) else requests)
    running: dict[Future[ActionResult], str] = {}
    results: dict[str, ActionResult] = {}
    capacity = max(1, executor.capacity)
    while True:
        for name, request in pending:
            running[executor.submit(request)] = name
            if len(running) >= capacity:
                break
        if not running:
            return results
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            name = running.pop(future)
            results[name] = future.result()
            if finished is not None:
                finished(name, results[name])
