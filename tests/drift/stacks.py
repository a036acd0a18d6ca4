"""A stack whose shell handlers write files, with a ``read`` action that reports them back.

``conf`` resources write ``content`` (and ``mode``) to ``path``; their ``read``
prints the file's content (and mode) as one JSON object. A ``user`` resource
takes its ``greeting`` from ``conf1.content`` and writes it to its own file, so
a changed ``conf1.content`` reaches it through the connection.
"""

from __future__ import annotations

from pathlib import Path

WRITE = "printf %s {{ inputs.content }} > {{ inputs.path }} && echo {{ action }} >> actions.log"
READ = (
    "python3 -c 'import json, sys; print(json.dumps("
    '{"content": open(sys.argv[1]).read()}))\' {{ inputs.path }}'
)
USER_WRITE = (
    "printf %s {{ inputs.greeting }} > {{ inputs.path }} && echo {{ action }}-user >> actions.log"
)


def quoted(command: str) -> str:
    return "'" + command.replace("'", "''") + "'"


def drift_stack(
    directory: Path, *, content: str = "hello", other: str = "world", read: str = READ
) -> Path:
    """Write ``stack.yaml`` in ``directory`` and return its path."""
    stack = directory / "stack.yaml"
    stack.write_text(
        f"""
types:
  conf:
    version: 1
    inputs:
      path: {{type: string}}
      content: {{type: string}}
      token: {{type: string, default: t0ken-value, secret: true}}
    actions:
      run: {{shell: {quoted(WRITE)}}}
      update: {{shell: {quoted(WRITE)}}}
      remove: {{shell: 'rm -f {{{{ inputs.path }}}} && echo remove >> actions.log'}}
      read: {{shell: {quoted(read)}}}
  user:
    version: 1
    inputs:
      path: {{type: string}}
      greeting: {{type: string}}
    actions:
      run: {{shell: {quoted(USER_WRITE)}}}
      update: {{shell: {quoted(USER_WRITE)}}}
      remove: {{shell: 'rm -f {{{{ inputs.path }}}}'}}
resources:
  conf1:
    type: conf
    inputs: {{path: {directory / "conf1.txt"}, content: {content}}}
  conf2:
    type: conf
    inputs: {{path: {directory / "conf2.txt"}, content: {other}}}
  user1:
    type: user
    inputs: {{path: {directory / "user1.txt"}, greeting: "${{conf1.content}}"}}
"""
    )
    return stack
