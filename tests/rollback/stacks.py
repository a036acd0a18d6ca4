"""Stacks for the rollback tests: real shell handlers that keep one file per resource.

``run`` and ``update`` write the resource's inputs to ``<resource>.conf``,
``remove`` deletes it, and every action appends ``action resource`` to
``actions.log``; so the files in the directory are what the handlers made of
committed state, and can be compared before and after a revert.
"""

from __future__ import annotations

from pathlib import Path

from tests.stacks import (
    ADMIN_IP,
    KEYSTONE1,
    KEYSTONE2,
    LOG,
    NODE1,
    NODES,
    PASSWORD,
    PORT,
    actions_run,
    haproxy,
    nodes,
    resources,
    types,
    write,
)

__all__ = [
    "BOTH",
    "KEYSTONE1",
    "KEYSTONE2",
    "NODE1",
    "NODES",
    "TYPES",
    "V1",
    "V2",
    "actions_run",
    "conf_files",
    "haproxy",
    "nodes",
    "stack",
    "write",
]

_WRITE = f"{LOG} && printf \"%s\\n\" '{{{{ inputs | tojson }}}}' > {{{{ resource }}}}.conf"
_REMOVE = f"{LOG} && rm {{{{ resource }}}}.conf"

TYPES = types(_WRITE, _WRITE, _REMOVE, service_inputs=(ADMIN_IP, PORT, PASSWORD))


def stack(*snippets: str) -> str:
    """A stack file text with the shared types and the given resource snippets."""
    return TYPES + resources(*snippets)


V1 = stack(NODES, KEYSTONE1, haproxy("${keystone1.ip}"))
V2 = stack(NODES, KEYSTONE2, haproxy("${keystone2.ip}"))
BOTH = stack(NODES, KEYSTONE1, KEYSTONE2, haproxy("${keystone1.ip}", "${keystone2.ip}"))


def conf_files(directory: Path) -> dict[str, str]:
    """Every ``<resource>.conf`` the handlers left, by file name, with its text."""
    return {path.name: path.read_text() for path in sorted(directory.glob("*.conf"))}
