"""Stack files for the durability tests: real shell handlers that record what they ran."""

from __future__ import annotations

from tests.stacks import LOG, PORT, actions_run, types, write

__all__ = ["RESOURCES", "SLOW_ONCE", "actions_run", "deployment", "write"]

SLOW_ONCE = (
    LOG + '; if [ "{{ resource }}" = "$SLOW" ] && [ ! -e slow.once ]; then'
    " touch slow.once; echo $$ > slow.pid; sleep 60; fi"
)
"""Records the action; the resource named by $SLOW sleeps the first time (a crash window)."""


def deployment(slow: str = "", service_version: int = 1, extra: str = "") -> str:
    """node1 -> keystone1, keystone2 -> haproxy; ``slow`` sleeps in its first run."""
    command = SLOW_ONCE.replace("$SLOW", slow) if slow else LOG
    return (
        types(command, service_version=service_version, service_inputs=(PORT,))
        + """resources:
  node1: {type: node, tags: {node: node1}, inputs: {ip: 10.0.0.1}}
  keystone1: {type: service, inputs: {ip: "${node1.ip}"}}
  keystone2: {type: service, inputs: {ip: "${node1.ip}"}}
  haproxy: {type: lb, inputs: {backends: ["${keystone1.ip}", "${keystone2.ip}"]}}
"""
        + extra
    )


RESOURCES = ("haproxy", "keystone1", "keystone2", "node1")
