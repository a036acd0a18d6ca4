"""Stack files for the handler-output tests: real shell handlers that write to both streams."""

from __future__ import annotations


def chain(
    run: str, *, secret: str = "s3cret-value", names: tuple[str, ...] = ("a", "b", "c")
) -> str:
    """A chain ``a -> b -> c`` of one type whose ``run`` and ``update`` are the shell ``run``.

    Each resource has a secret ``password`` (default ``secret``) and an ``n``
    taken from the one before it, so each action starts after the previous one.
    """
    quoted = "'" + run.replace("'", "''") + "'"
    lines = []
    previous = None
    for name in names:
        n = f'"${{{previous}.n}}"' if previous else "1"
        lines.append(f"  {name}: {{type: svc, inputs: {{n: {n}}}}}")
        previous = name
    return (
        f"""
types:
  svc:
    version: 1
    inputs:
      n: {{type: integer}}
      password: {{type: string, default: {secret}, secret: true}}
    actions:
      run: {{shell: {quoted}}}
      update: {{shell: {quoted}}}
resources:
"""
        + "\n".join(lines)
        + "\n"
    )
