"""Deployment-shaped stacks for benchmarks: N/10 chains of 10 connected services, a balancer."""

from __future__ import annotations

from pathlib import Path

CHAIN = 10

HEADER = """types:
  service:
    version: 1
    inputs:
      addr: {type: string}
      upstream: {type: string, default: ""}
    actions:
      run: {python: "noop:noop"}
      update: {python: "noop:noop"}
      remove: {python: "noop:noop"}
  balancer:
    version: 1
    inputs:
      backends: {type: list}
    actions:
      run: {python: "noop:noop"}
      update: {python: "noop:noop"}
      remove: {python: "noop:noop"}
resources:
"""


SECRET_AFTER = '      upstream: {type: string, default: ""}\n'
SECRET_INPUT = "      token: {type: string, secret: true}\n"


def deployment_stack(n: int, *, generation: int = 0, secret: bool = False) -> str:
    """A stack of ``n`` resources (``n`` a multiple of 10, plus one balancer).

    ``generation`` changes every chain head's address, so staging generation 1
    over an applied generation 0 updates every resource. With ``secret`` every
    service also has a secret ``token`` of its own (sealed in the store).
    """
    header = HEADER.replace(SECRET_AFTER, SECRET_AFTER + SECRET_INPUT, 1) if secret else HEADER
    lines = [header]
    tails = []
    for chain in range(n // CHAIN):
        for link in range(CHAIN):
            name = f"svc-{chain}-{link}"
            token = f", token: 'tok-{generation}-{chain}-{link}'" if secret else ""
            if link == 0:
                lines.append(
                    f"  {name}: {{type: service, inputs: "
                    f"{{addr: '10.{generation}.{chain}'{token}}}}}\n"
                )
            else:
                upstream = f"svc-{chain}-{link - 1}"
                lines.append(
                    f"  {name}: {{type: service, inputs: "
                    f"{{addr: '${{{upstream}.addr}}', upstream: '${{{upstream}.addr}}'{token}}}}}\n"
                )
        tails.append(f"'${{svc-{chain}-{CHAIN - 1}.addr}}'")
    lines.append(f"  balancer: {{type: balancer, inputs: {{backends: [{', '.join(tails)}]}}}}\n")
    return "".join(lines)


def write_stack(directory: Path, n: int, *, generation: int = 0, secret: bool = False) -> Path:
    path = directory / f"stack-{n}-g{generation}{'-secret' if secret else ''}.yaml"
    path.write_text(deployment_stack(n, generation=generation, secret=secret), encoding="utf-8")
    return path
