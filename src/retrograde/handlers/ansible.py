"""The ``ansible`` handler: run a playbook with the action's inputs as extra vars.

The target is the playbook path (relative to ``cwd``). Extra vars travel in a
temporary JSON file (``--extra-vars @FILE``) rather than on the command line,
so values keep their JSON types and secrets do not show in ``ps``. The vars are
the inputs plus ``resource``, ``action`` and ``apply_id``; for a ``remove``,
whose inputs are null, the inputs the resource had (``previous``) are passed so
the playbook can tear down what it set up.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

from retrograde.handlers.process import action_environment, failure, request_mask, run_command
from retrograde.model.apply import ActionRequest, ActionResult

PLAYBOOK_COMMAND = "ansible-playbook"


class AnsibleHandler:
    """Runs playbooks with the shell handler's timeout, error-tail and masking semantics."""

    kind: str = "ansible"

    def run(self, request: ActionRequest) -> ActionResult:
        """Run ``ansible-playbook TARGET --extra-vars @FILE`` in ``cwd``; failures are values."""
        context = request["context"]
        resource = str(context.get("resource") or "")
        env = action_environment(context)
        executable = shutil.which(PLAYBOOK_COMMAND, path=env.get("PATH"))
        if executable is None:
            return failure(resource, f"{PLAYBOOK_COMMAND} not found on PATH")
        vars_path = _write_extra_vars(extra_vars(context))
        try:
            return run_command(
                [executable, request["target"], "--extra-vars", f"@{vars_path}"],
                resource=resource,
                cwd=request["cwd"],
                env=env,
                timeout=request["timeout"],
                mask=request_mask(request),
            )
        finally:
            os.unlink(vars_path)


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


def _write_extra_vars(variables: Mapping[str, Any]) -> str:
    """Write the vars to a private temporary file and return its path; the caller removes it."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", suffix=".json", prefix="retrograde-vars-", delete=False
    ) as file:
        json.dump(variables, file)
    return file.name
