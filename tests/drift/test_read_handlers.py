"""Read actions of every handler kind: python returns a dict, command prints, ansible sets facts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import retrograde

READER = """
import json
from pathlib import Path


def write(context):
    inputs = context["inputs"] or context["previous"]
    Path(inputs["path"]).write_text(json.dumps({"size": inputs["size"]}))


def read(context):
    return json.loads(Path(context["inputs"]["path"]).read_text())


def read_bad(context):
    return {"size": object()}
"""


def _python_stack(directory: Path, read: str = "reader:read") -> Path:
    (directory / "reader.py").write_text(READER)
    stack = directory / "stack.yaml"
    stack.write_text(
        f"""types:
  box:
    version: 1
    inputs: {{path: {{type: string}}, size: {{type: integer}}}}
    actions:
      run: {{python: "reader:write"}}
      read: {{python: "{read}"}}
resources:
  box1: {{type: box, inputs: {{path: {json.dumps(str(directory / "box1.json"))}, size: 3}}}}
"""
    )
    return stack


def test_a_python_read_returns_the_observed_inputs(ctx: retrograde.Context, tmp_path: Path) -> None:
    """The dict a python read function returns is the resource's observed inputs."""
    retrograde.apply(ctx, _python_stack(tmp_path))
    assert retrograde.refresh(ctx).drift == {}
    (tmp_path / "box1.json").write_text('{"size": 7}')
    found = retrograde.refresh(ctx)
    assert {k: (d.committed, d.observed) for k, d in found.drift["box1"].items()} == {
        "size": (3, 7)
    }


def test_a_python_read_returning_what_is_not_json_fails(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """A returned value that cannot cross as JSON is that resource's failure, named."""
    retrograde.apply(ctx, _python_stack(tmp_path, "reader:read_bad"))
    failed = retrograde.refresh(ctx).failed
    assert failed["box1"].startswith("read failed: read returned an object that is not JSON")


def test_a_command_read_prints_its_json(ctx: retrograde.Context, tmp_path: Path) -> None:
    """A command (argv, no shell) read's stdout is parsed as the observed inputs."""
    stack = tmp_path / "stack.yaml"
    script = "import json; print(json.dumps({'n': 2}))"
    stack.write_text(
        f"""types:
  thing:
    version: 1
    inputs: {{n: {{type: integer}}}}
    actions:
      read: {{command: [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]}}
resources:
  t1: {{type: thing, inputs: {{n: 1}}}}
"""
    )
    retrograde.apply(ctx, stack)
    assert retrograde.refresh(ctx, ["t1"]).drift["t1"]["n"].observed == 2


PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""

WRITE = (
    PLAY
    + """    - copy:
        dest: "{{ path }}"
        content: "{{ greeting }}"
"""
)

READ = (
    PLAY
    + """    - slurp:
        src: "{{ path }}"
      register: found
    - set_fact:
        greeting: "{{ found.content | b64decode }}"
"""
)


@pytest.mark.slow
def test_an_ansible_read_reports_facts_as_inputs(
    ctx: retrograde.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read playbook's last set_fact is the observed inputs; real ansible-core, real file."""
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(tmp_path / "ansible-local"))
    (tmp_path / "write.yml").write_text(WRITE)
    (tmp_path / "read.yml").write_text(READ)
    motd = tmp_path / "motd.txt"
    stack = tmp_path / "stack.yaml"
    stack.write_text(
        f"""types:
  file:
    version: 1
    inputs: {{path: {{type: string}}, greeting: {{type: string}}}}
    actions:
      run: {{ansible: write.yml, timeout: 120}}
      update: {{ansible: write.yml, timeout: 120}}
      read: {{ansible: read.yml, timeout: 120}}
resources:
  motd: {{type: file, inputs: {{path: {json.dumps(str(motd))}, greeting: hello}}}}
"""
    )
    retrograde.apply(ctx, stack)
    assert motd.read_text() == "hello"
    assert retrograde.refresh(ctx).drift == {}
    motd.write_text("tampered")
    found = retrograde.refresh(ctx, restore=True)
    assert found.drift["motd"]["greeting"].observed == "tampered"
    retrograde.apply(ctx)
    assert motd.read_text() == "hello"
    assert retrograde.refresh(ctx).drift == {}
