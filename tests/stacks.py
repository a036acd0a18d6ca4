"""Stack files for the tests: real shell handlers over one small deployment, and their traces.

Every suite deploys the same shape (two nodes, keystone services on them, an
haproxy balancing over the services) with its own handler commands, and reads
back what the handlers did: ``actions.log``, one ``action resource`` line per
action run, in the order they ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

LOG = 'echo "{{ action }} {{ resource }}" >> actions.log'
"""A shell command appending ``action resource`` to ``actions.log``."""

PORT = "port: {type: integer, default: 5000}"
PASSWORD = "password: {type: string, default: s3cret, secret: true}"
ADMIN_IP = 'admin_ip: {type: string, default: ""}'


def quoted(command: str) -> str:
    """``command`` as a YAML single-quoted scalar."""
    return "'" + command.replace("'", "''") + "'"


def types(
    run: str,
    update: str | None = None,
    remove: str | None = None,
    *,
    service_version: int = 1,
    service_inputs: Sequence[str] = (PORT, PASSWORD),
) -> str:
    """The ``node``, ``service`` and ``lb`` types, whose actions run these shell commands.

    ``update`` and ``remove`` default to ``run``; a service has ``ip`` and then
    ``service_inputs``.
    """
    actions = {"run": run, "update": update or run, "remove": remove or run}
    shells = "".join(f"\n      {name}: {{shell: {quoted(c)}}}" for name, c in actions.items())
    inputs = "".join(f"\n      {line}" for line in service_inputs)
    return f"""
types:
  node:
    version: 1
    inputs:
      ip: {{type: string}}
    actions: &actions{shells}
  service:
    version: {service_version}
    inputs:
      ip: {{type: string}}{inputs}
    actions: *actions
  lb:
    version: 1
    inputs:
      backends: {{type: list}}
    actions: *actions
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


def resources(*snippets: str) -> str:
    """The ``resources:`` section holding these resource snippets."""
    return "resources:" + "".join(snippets)


def write(directory: Path, name: str, text: str) -> Path:
    """``text`` written to ``directory/name``, whose path is returned."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def actions_run(directory: Path) -> list[str]:
    """The ``action resource`` lines the handlers appended, in the order they ran."""
    log = directory / "actions.log"
    return log.read_text().splitlines() if log.exists() else []
