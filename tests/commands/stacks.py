"""Stack files used by the command tests: real shell handlers that record what they ran."""

from __future__ import annotations

from pathlib import Path

RECORD = (
    '\'echo "{{ action }} {{ resource }}" >> actions.log'
    " && cat > {{ resource }}.{{ action }}.json'"
)

TYPES = f"""
types:
  node:
    version: 1
    inputs:
      ip: {{type: string}}
    actions: &record
      run: {{shell: {RECORD}}}
      update: {{shell: {RECORD}}}
      remove: {{shell: {RECORD}}}
  service:
    version: 1
    inputs:
      ip: {{type: string}}
      port: {{type: integer, default: 5000}}
      password: {{type: string, default: s3cret, secret: true}}
    actions: *record
  lb:
    version: 1
    inputs:
      backends: {{type: list}}
    actions: *record
"""

V1 = (
    TYPES
    + """
resources:
  node1: {type: node, tags: {node: node1}, inputs: {ip: 10.20.0.2}}
  node2: {type: node, tags: {node: node2}, inputs: {ip: 10.20.0.3}}
  keystone1:
    type: service
    tags: {node: node1}
    inputs: {ip: "${node1.ip}"}
  haproxy:
    type: lb
    tags: {node: node2}
    inputs: {backends: ["${keystone1.ip}"]}
"""
)

V2 = (
    TYPES
    + """
resources:
  node1: {type: node, tags: {node: node1}, inputs: {ip: 10.20.0.2}}
  node2: {type: node, tags: {node: node2}, inputs: {ip: 10.20.0.3}}
  keystone2:
    type: service
    tags: {node: node2}
    inputs: {ip: "${node2.ip}"}
  haproxy:
    type: lb
    tags: {node: node2}
    inputs: {backends: ["${keystone2.ip}"]}
"""
)

V1_NEW_IP = V1.replace("10.20.0.2", "10.20.0.12")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def actions_run(directory: Path) -> list[str]:
    """The ``action resource`` lines the handlers appended, in the order they ran."""
    log = directory / "actions.log"
    return log.read_text().splitlines() if log.exists() else []
