"""Stacks for the rollback tests: real shell handlers that keep one file per resource.

``run`` and ``update`` write the resource's inputs to ``<resource>.conf``,
``remove`` deletes it, and every action appends ``action resource`` to
``actions.log``; so the files in the directory are what the handlers made of
committed state, and can be compared before and after a revert.
"""

from __future__ import annotations

from pathlib import Path

from tests.commands.stacks import actions_run, write

__all__ = ["actions_run", "conf_files", "stack", "write"]

_LOG = 'echo "{{ action }} {{ resource }}" >> actions.log'
_WRITE = f"{_LOG} && printf \"%s\\n\" '{{{{ inputs | tojson }}}}' > {{{{ resource }}}}.conf"
_REMOVE = f"{_LOG} && rm {{{{ resource }}}}.conf"


def _quoted(command: str) -> str:
    """``command`` as a YAML single-quoted scalar."""
    return "'" + command.replace("'", "''") + "'"


TYPES = f"""
types:
  node:
    version: 1
    inputs:
      ip: {{type: string}}
    actions: &conf
      run: {{shell: {_quoted(_WRITE)}}}
      update: {{shell: {_quoted(_WRITE)}}}
      remove: {{shell: {_quoted(_REMOVE)}}}
  service:
    version: 1
    inputs:
      ip: {{type: string}}
      admin_ip: {{type: string, default: ""}}
      port: {{type: integer, default: 5000}}
      password: {{type: string, default: s3cret, secret: true}}
    actions: *conf
  lb:
    version: 1
    inputs:
      backends: {{type: list}}
    actions: *conf
"""


def nodes(node1: str = "10.20.0.2", node2: str = "10.20.0.3") -> str:
    """The two nodes with these addresses."""
    return (
        f"\n  node1: {{type: node, tags: {{node: node1}}, inputs: {{ip: {node1}}}}}"
        f"\n  node2: {{type: node, tags: {{node: node2}}, inputs: {{ip: {node2}}}}}\n"
    )


NODES = nodes()
NODE1 = nodes().split("\n  node2")[0] + "\n"

KEYSTONE1 = """
  keystone1: {type: service, tags: {node: node1}, inputs: {ip: "${node1.ip}"}}
"""

KEYSTONE2 = """
  keystone2: {type: service, tags: {node: node2}, inputs: {ip: "${node2.ip}"}}
"""


def haproxy(*backends: str) -> str:
    """The balancer (on node2) with these backends, e.g. ``"${keystone1.ip}"`` or a literal."""
    listed = ", ".join(f'"{b}"' for b in backends)
    return f"\n  haproxy: {{type: lb, tags: {{node: node2}}, inputs: {{backends: [{listed}]}}}}\n"


def stack(*resources: str) -> str:
    """A stack file text with the shared types and the given resource snippets."""
    return TYPES + "resources:" + "".join(resources)


V1 = stack(NODES, KEYSTONE1, haproxy("${keystone1.ip}"))
V2 = stack(NODES, KEYSTONE2, haproxy("${keystone2.ip}"))
BOTH = stack(NODES, KEYSTONE1, KEYSTONE2, haproxy("${keystone1.ip}", "${keystone2.ip}"))


def conf_files(directory: Path) -> dict[str, str]:
    """Every ``<resource>.conf`` the handlers left, by file name, with its text."""
    return {path.name: path.read_text() for path in sorted(directory.glob("*.conf"))}
