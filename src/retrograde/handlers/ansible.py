"""The ``ansible`` handler: run a playbook with the action's inputs as extra vars.

The target is the playbook path (relative to ``cwd``). Extra vars travel as
JSON through a named pipe (``--extra-vars @FIFO``) in a private temporary
directory, rather than on the command line or in a file: values keep their
JSON types, secrets do not show in ``ps`` and are never written to disk. The
vars are the inputs plus ``resource``, ``action`` and ``apply_id``; for a
``remove``, whose inputs are null, the inputs the resource had (``previous``)
are passed so the playbook can tear down what it set up.

A ``read`` playbook reports the resource's actual inputs as the facts its last
task sets (``set_fact: {port: …}``): ansible's built-in ``tree`` callback writes
that result to a private directory, and the facts travel back as ``observed``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from retrograde.handlers.process import action_environment, failure, request_mask, run_command
from retrograde.model.apply import ActionRequest, ActionResult

PLAYBOOK_COMMAND = "ansible-playbook"
READ = "read"
READ_LIMIT = 1024 * 1024
"""Characters of a host's last result a read takes (its facts are a resource's inputs)."""


class AnsibleHandler:
    """Runs playbooks with the shell handler's timeout, error-tail and masking semantics."""

    kind: str = "ansible"

    def run(self, request: ActionRequest) -> ActionResult:
        """Run ``ansible-playbook TARGET --extra-vars @FILE`` in ``cwd``; failures are values."""
        context = request["context"]
        resource = str(context.get("resource") or "")
        env = action_environment(context)
        env.setdefault("ANSIBLE_DISPLAY_FAILED_STDERR", "true")  # failures in the error tail
        executable = shutil.which(PLAYBOOK_COMMAND, path=env.get("PATH"))
        if executable is None:
            return failure(resource, f"{PLAYBOOK_COMMAND} not found on PATH")
        reading = context.get("action") == READ
        with _vars_pipe(extra_vars(context)) as vars_path, _facts_tree(env, reading) as tree:
            result = run_command(
                [executable, request["target"], "--extra-vars", f"@{vars_path}"],
                resource=resource,
                cwd=request["cwd"],
                env=env,
                timeout=request["timeout"],
                mask=request_mask(request),
            )
            return _with_facts(result, tree) if tree is not None and result["ok"] else result


@contextlib.contextmanager
def _facts_tree(env: dict[str, str], reading: bool) -> Iterator[Path | None]:
    """For a read: a private directory where ansible's ``tree`` callback writes each host's
    last task result (so the facts the playbook's last task set); None otherwise."""
    if not reading:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="retrograde-read-"))
    env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.builtin.tree"
    env["ANSIBLE_CALLBACK_TREE_DIR"] = str(directory)
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _with_facts(result: ActionResult, tree: Path) -> ActionResult:
    """A read's result carrying the facts its playbook's last task set (every host's, merged
    in host order), or a failure when it set none."""
    facts: dict[str, Any] = {}
    for host in sorted(tree.iterdir()):
        with contextlib.suppress(OSError, ValueError):
            last = json.loads(host.read_text(encoding="utf-8")[:READ_LIMIT])
            if isinstance(last, dict) and isinstance(last.get("ansible_facts"), dict):
                facts.update(last["ansible_facts"])
    if not facts:
        return failure(
            result["resource"],
            "the read playbook's last task set no facts (end it with set_fact: INPUT: VALUE)",
            output=result.get("output"),
        )
    result["observed"] = facts
    return result


def extra_vars(context: Mapping[str, Any]) -> dict[str, Any]:
    """The playbook's variables: inputs (or previous inputs for a remove) plus the action."""
    inputs = context.get("inputs")
    if inputs is None:
        inputs = context.get("previous")
    return {
        **(inputs or {}),
        "resource": context.get("resource"),
        "action": context.get("action"),
        "apply_id": context.get("apply_id"),
    }


@contextlib.contextmanager
def _vars_pipe(variables: Mapping[str, Any]) -> Iterator[Path]:
    """A named pipe that hands ``variables`` as JSON to its reader while the block runs.

    The pipe lives in a directory only this user can enter and holds no data
    on disk. A writer thread waits for the playbook to open it; when the block
    ends (the playbook finished, or never read it) the writer is released and
    the directory removed.
    """
    data = json.dumps(variables).encode("utf-8")
    directory = Path(tempfile.mkdtemp(prefix="retrograde-vars-"))
    path = directory / "vars.json"
    os.mkfifo(path, 0o600)
    writer = threading.Thread(target=_serve, args=(path, data), daemon=True)
    writer.start()
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):  # wake a writer still waiting for its reader
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=5)
        shutil.rmtree(directory, ignore_errors=True)


def _serve(path: Path, data: bytes) -> None:
    """Write ``data`` to the first reader of the pipe at ``path``."""
    # open() blocks until a reader opens the pipe; a reader gone early is a broken pipe
    with contextlib.suppress(OSError), open(path, "wb") as pipe:
        pipe.write(data)
