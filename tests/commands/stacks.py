"""Stack files used by the command tests: real shell handlers that record what they ran.

Every action appends ``action resource`` to ``actions.log`` and saves the
context it read on stdin as ``<resource>.<action>.json``.
"""

from __future__ import annotations

from tests.stacks import (
    KEYSTONE1,
    KEYSTONE2,
    LOG,
    NODES,
    actions_run,
    haproxy,
    resources,
    types,
    write,
)

__all__ = ["TYPES", "V1", "V1_NEW_IP", "V2", "actions_run", "write"]

RECORD = f"{LOG} && cat > {{{{ resource }}}}.{{{{ action }}}}.json"

TYPES = types(RECORD)

V1 = TYPES + resources(NODES, KEYSTONE1, haproxy("${keystone1.ip}"))

V2 = TYPES + resources(NODES, KEYSTONE2, haproxy("${keystone2.ip}"))

V1_NEW_IP = V1.replace("10.20.0.2", "10.20.0.12")
