"""Stack directories for the Celery tests: the coordinator's, and copies for workers' roots."""

from __future__ import annotations

import shutil
from pathlib import Path

ROUTED = """\
route_by: node
types:
  svc:
    version: 1
    files: [deploy.sh]
    actions:
      run:
        shell: 'echo "$RETROGRADE_WORKER" > ran-{{{{ resource }}}} && sh deploy.sh'
        timeout: 20
resources:
  a: {{type: svc, tags: {{node: {node1}}}}}
  b: {{type: svc, tags: {{node: {node2}}}}}
  c: {{type: svc, tags: {{node: {node1}}}, inputs: {{}}}}
"""

SLOW = """\
types:
  slow:
    version: 1
    inputs: {{marks: {{type: string}}}}
    actions:
      run:
        shell: >-
          echo $$ > {{{{ inputs.marks }}}}/pid;
          echo "$RETROGRADE_WORKER" >> {{{{ inputs.marks }}}}/ran;
          sleep {sleep};
          echo "$RETROGRADE_WORKER" >> {{{{ inputs.marks }}}}/done
        timeout: {timeout}
        queue_timeout: {queue_timeout}
resources:
  job: {{type: slow, queue: {queue}, inputs: {{marks: {marks}}}}}
"""


def stack_dir(base: Path, text: str) -> Path:
    """A stack directory ``base/coordinator`` with ``stack.yaml`` and a ``deploy.sh``."""
    directory = base / "coordinator"
    directory.mkdir()
    (directory / "stack.yaml").write_text(text)
    (directory / "deploy.sh").write_text("echo deployed\n")
    return directory


def root_copy(stack: Path, name: str) -> Path:
    """A worker's ``--root``: a copy of the stack directory beside it."""
    root = stack.parent / f"root-{name}"
    shutil.copytree(stack, root)
    return root
