"""Stack files for the durability tests: real shell handlers that record what they ran."""

from __future__ import annotations

from pathlib import Path

LOG = 'echo "{{ action }} {{ resource }}" >> actions.log'

SLOW_ONCE = (
    LOG + '; if [ "{{ resource }}" = "$SLOW" ] && [ ! -e slow.once ]; then'
    " touch slow.once; echo $$ > slow.pid; sleep 60; fi"
)
"""Records the action; the resource named by $SLOW sleeps the first time (a crash window)."""


def deployment(slow: str = "", service_version: int = 1, extra: str = "") -> str:
    """node1 -> keystone1, keystone2 -> haproxy; ``slow`` sleeps in its first run."""
    command = SLOW_ONCE.replace("$SLOW", slow) if slow else LOG
    return f"""
types:
  node:
    version: 1
    inputs:
      ip: {{type: string}}
    actions: &actions
      run: {{shell: '{command}'}}
      update: {{shell: '{command}'}}
      remove: {{shell: '{command}'}}
  service:
    version: {service_version}
    inputs:
      ip: {{type: string}}
      port: {{type: integer, default: 5000}}
    actions: *actions
  lb:
    version: 1
    inputs:
      backends: {{type: list}}
    actions: *actions
resources:
  node1: {{type: node, tags: {{node: node1}}, inputs: {{ip: 10.0.0.1}}}}
  keystone1: {{type: service, inputs: {{ip: "${{node1.ip}}"}}}}
  keystone2: {{type: service, inputs: {{ip: "${{node1.ip}}"}}}}
  haproxy: {{type: lb, inputs: {{backends: ["${{keystone1.ip}}", "${{keystone2.ip}}"]}}}}
{extra}"""


RESOURCES = ("haproxy", "keystone1", "keystone2", "node1")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def actions_run(directory: Path) -> list[str]:
    """The ``action resource`` lines the handlers appended, in the order they ran."""
    log = directory / "actions.log"
    return log.read_text().splitlines() if log.exists() else []
