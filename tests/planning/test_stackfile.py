"""Stack files: literal YAML in, a checked Stack or exactly one located error out."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from retrograde.errors import (
    CycleError,
    InputTypeError,
    MissingInputError,
    StackError,
    StackSyntaxError,
    UnknownReferenceError,
    UnknownTypeError,
)
from retrograde.model.types import ActionSpec, InputKind, InputSpec
from retrograde.planning import stackfile_yaml
from retrograde.planning.stackfile import Stack, parse_stack
from retrograde.planning.stackfile_yaml import load_document

TYPES = """\
types:
  node:
    version: 1
    inputs:
      ip: {type: string}
  service:
    version: 2
    inputs:
      ip: {type: string}
      port: {type: integer, default: 5000}
      weight: {type: number, default: 1.5}
      password: {type: string, secret: true, default: changeme}
  lb:
    version: 1
    inputs:
      backends: {type: list}
      options: {type: object, default: {}}
      extra: {default: null}
"""


def parse(text: str, files: dict[str, str] | None = None) -> Stack:
    """Parse ``text`` as ``stack.yaml`` in ``/srv/app``; ``files`` backs the includes."""

    def read_file(path: str) -> str:
        if files is None or path not in files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return files[path]

    return parse_stack(text, source="stack.yaml", base_dir="/srv/app", read_file=read_file)


def stack(resources: str) -> str:
    """The shared types plus ``resources:`` with the given (already indented) body."""
    return TYPES + "resources:\n" + resources


def locate(text: str, fragment: str, source: str = "stack.yaml") -> str:
    """``source:line:col`` of the one place ``fragment`` occurs in ``text``."""
    assert text.count(fragment) == 1, fragment
    before = text[: text.index(fragment)]
    return f"{source}:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"


def fails(error: type[StackError], text: str, files: dict[str, str] | None = None) -> StackError:
    with pytest.raises(error) as info:
        parse(text, files)
    assert str(info.value) == f"{info.value.location}: {info.value.problem}"
    return info.value


# --- what a valid stack gives ---------------------------------------------------------------


def test_reference_example_parses_to_types_and_resources() -> None:
    """A full stack (types, tags, a connection, fan-in) gives types, resources in order, links."""
    result = parse(
        stack(
            "  node1:\n"
            "    type: node\n"
            "    tags: {node: node1}\n"
            "    inputs: {ip: 10.20.0.2}\n"
            "  keystone1:\n"
            "    type: service\n"
            "    tags: {node: node1}\n"
            "    inputs:\n"
            "      ip: ${node1.ip}\n"
            "  keystone2: {type: service, inputs: {ip: '${node1.ip}'}}\n"
            "  haproxy:\n"
            "    type: lb\n"
            '    inputs: {backends: ["${keystone1.ip}", "${keystone2.ip}"]}\n'
        )
    )
    assert result.source == "stack.yaml"
    assert list(result.types) == ["node", "service", "lb"]
    assert list(result.resources) == ["node1", "keystone1", "keystone2", "haproxy"]
    keystone = result.resources["keystone1"]
    assert keystone.type == "service"
    assert keystone.version == 2
    assert keystone.tags == {"node": "node1"}
    assert keystone.inputs == {"ip": None, "port": 5000, "weight": 1.5, "password": "changeme"}
    assert keystone.connections == {"ip": "node1.ip"}
    haproxy = result.resources["haproxy"]
    assert haproxy.inputs == {"backends": [None, None], "options": {}, "extra": None}
    assert haproxy.connections == {"backends": ["keystone1.ip", "keystone2.ip"]}
    assert result.resources["node1"].connections == {}


def test_every_declared_input_gets_its_value_or_default() -> None:
    """Given literals win, absent inputs take their default, and secrets stay marked."""
    result = parse(stack("  s: {type: service, inputs: {ip: a, port: 80, password: hunter2}}\n"))
    assert result.resources["s"].inputs == {
        "ip": "a",
        "port": 80,
        "weight": 1.5,
        "password": "hunter2",
    }
    service = result.types["service"]
    assert service.inputs["password"] == InputSpec(
        "password", InputKind.STRING, "changeme", has_default=True, secret=True
    )
    assert service.secrets == frozenset({"password"})
    assert service.inputs["ip"] == InputSpec("ip", InputKind.STRING)
    assert result.types["lb"].inputs["extra"] == InputSpec(
        "extra", InputKind.ANY, None, has_default=True
    )


def test_default_containers_are_not_shared_between_resources() -> None:
    """Each resource gets its own copy of a list or object default."""
    result = parse(
        stack("  a: {type: lb, inputs: {backends: []}}\n  b: {type: lb, inputs: {backends: []}}\n")
    )
    assert result.resources["a"].inputs["options"] == {}
    assert result.resources["a"].inputs["options"] is not result.resources["b"].inputs["options"]


def test_integer_is_a_number_and_any_takes_anything() -> None:
    """An integer literal fits a ``number`` input; ``any`` accepts null, lists and objects."""
    result = parse(
        stack(
            "  s: {type: service, inputs: {ip: a, weight: 3}}\n"
            "  l: {type: lb, inputs: {backends: [1, {x: [2]}], extra: {k: [null]}}}\n"
        )
    )
    assert result.resources["s"].inputs["weight"] == 3
    assert result.resources["l"].inputs["extra"] == {"k": [None]}
    assert result.resources["l"].inputs["backends"] == [1, {"x": [2]}]


def test_fan_in_list_mixes_connections_and_literals() -> None:
    """Connections inside a list leave None at their positions and a per-element slot."""
    result = parse(
        stack(
            "  n1: {type: node, inputs: {ip: 10.0.0.1}}\n"
            "  n2: {type: node, inputs: {ip: 10.0.0.2}}\n"
            '  lb: {type: lb, inputs: {backends: ["${n1.ip}", static, "${n2.ip}", 7]}}\n'
        )
    )
    lb = result.resources["lb"]
    assert lb.inputs["backends"] == [None, "static", None, 7]
    assert lb.connections == {"backends": ["n1.ip", None, "n2.ip", None]}


def test_list_element_connection_takes_any_producer_kind() -> None:
    """Inside a list the consumer is the element, so an integer producer is fine."""
    result = parse(
        stack(
            "  s: {type: service, inputs: {ip: a}}\n"
            '  lb: {type: lb, inputs: {backends: ["${s.port}", "${s.weight}"]}}\n'
        )
    )
    assert result.resources["lb"].connections == {"backends": ["s.port", "s.weight"]}


def test_whole_value_connections_of_fitting_kinds() -> None:
    """Same kinds, integer into number, and anything into or out of ``any`` connect."""
    result = parse(
        stack(
            "  a: {type: service, inputs: {ip: a, port: 1}}\n"
            "  b: {type: service, inputs: {ip: '${a.ip}', weight: '${a.port}'}}\n"
            "  c: {type: lb, inputs: {backends: [], extra: '${b.weight}'}}\n"
            "  d: {type: service, inputs: {ip: '${c.extra}'}}\n"
        )
    )
    assert result.resources["b"].connections == {"ip": "a.ip", "weight": "a.port"}
    assert result.resources["b"].inputs["weight"] is None
    assert result.resources["c"].connections == {"extra": "b.weight"}
    assert result.resources["d"].connections == {"ip": "c.extra"}


def test_resource_names_may_contain_dots_and_dashes() -> None:
    """A connection to ``db.primary-1`` splits at the last dot."""
    result = parse(
        stack(
            "  db.primary-1: {type: node, inputs: {ip: 10.0.0.9}}\n"
            "  app: {type: service, inputs: {ip: '${db.primary-1.ip}'}}\n"
        )
    )
    assert result.resources["app"].connections == {"ip": "db.primary-1.ip"}


def test_double_dollar_escapes_a_literal() -> None:
    """``$${`` becomes ``${`` wherever it appears in an input value or a default."""
    text = (
        TYPES.replace("default: changeme", "default: '$${VAULT}'")
        + "resources:\n"
        + "  s:\n"
        + "    type: service\n"
        + '    inputs: {ip: "$${node1.ip}"}\n'
        + "  l:\n"
        + "    type: lb\n"
        + '    inputs: {backends: ["$${a}", "cost $${b} and $$${c}"], extra: {k: "$${d}"}}\n'
    )
    result = parse(text)
    assert result.resources["s"].inputs["ip"] == "${node1.ip}"
    assert result.resources["s"].connections == {}
    assert result.resources["s"].inputs["password"] == "${VAULT}"
    assert result.resources["l"].inputs["backends"] == ["${a}", "cost ${b} and $${c}"]
    assert result.resources["l"].inputs["extra"] == {"k": "${d}"}


def test_tags_are_text() -> None:
    """Tag values are scalars written as YAML reads them: true, 3, and empty for null."""
    result = parse(
        stack(
            "  n: {type: node, tags: {node: n1, primary: true, rack: 3, zone: }, inputs: {ip: x}}\n"
        )
    )
    assert result.resources["n"].tags == {"node": "n1", "primary": "true", "rack": "3", "zone": ""}


def test_dates_and_yaml_conveniences() -> None:
    """Dates stay strings; anchors, aliases and merge keys work as in YAML."""
    result = parse(
        stack(
            "  base: &base {type: service, tags: {tier: web}, inputs: {ip: 2024-01-01}}\n"
            "  copy:\n"
            "    <<: *base\n"
            "    inputs: {ip: b, port: 81}\n"
        )
    )
    assert result.resources["base"].inputs["ip"] == "2024-01-01"
    copy = result.resources["copy"]
    assert copy.tags == {"tier": "web"}
    assert copy.inputs["ip"] == "b"
    assert copy.inputs["port"] == 81


def test_actions_and_type_level_defaults() -> None:
    """Type-level timeout/retries/retry_delay are inherited; an action's own win."""
    result = parse(
        """\
types:
  svc:
    version: 3
    timeout: 30
    retries: 2
    actions:
      run: {shell: "deploy --ip {{ inputs.ip }}", timeout: 5.5}
      update: {python: "deploy.handlers:update", retries: 0, retry_delay: 1}
      remove: {ansible: playbooks/remove.yml}
  bare:
    version: 1
    actions:
      run: {shell: "true"}
"""
    )
    svc = result.types["svc"]
    assert svc.version == 3
    assert svc.base_dir == "/srv/app"
    assert svc.actions == {
        "run": ActionSpec("shell", "deploy --ip {{ inputs.ip }}", timeout=5.5, retries=2),
        "update": ActionSpec(
            "python", "deploy.handlers:update", timeout=30.0, retries=0, retry_delay=1.0
        ),
        "remove": ActionSpec("ansible", "playbooks/remove.yml", timeout=30.0, retries=2),
    }
    assert result.types["bare"].actions == {"run": ActionSpec("shell", "true")}
    assert result.resources == {}


def test_migrations_are_kept_as_data() -> None:
    """Migration steps keep every field; only their versions are checked."""
    result = parse(
        """\
types:
  svc:
    version: 2
    migrations:
      - {from: 1, to: 2, rename: {old: new}}
      - {from: 2, to: 3, python: "mig:step"}
"""
    )
    assert result.types["svc"].migrations == (
        {"from": 1, "to": 2, "rename": {"old": "new"}},
        {"from": 2, "to": 3, "python": "mig:step"},
    )


def test_empty_file_is_an_empty_stack() -> None:
    """A file with nothing in it (or only comments) desires nothing."""
    assert parse("# nothing yet\n") == Stack("stack.yaml", {}, {})
    assert parse("types:\nresources:\n") == Stack("stack.yaml", {}, {})


def test_ten_thousand_resources() -> None:
    """A generated 10,000-resource chain of connections parses in full."""
    lines = ["  r0: {type: node, inputs: {ip: 10.0.0.0}}"]
    lines += [
        f"  r{i}: {{type: node, inputs: {{ip: '${{r{i - 1}.ip}}'}}}}" for i in range(1, 10_000)
    ]
    result = parse(stack("\n".join(lines) + "\n"))
    assert len(result.resources) == 10_000
    assert result.resources["r9999"].connections == {"ip": "r9998.ip"}


# --- the YAML loader -------------------------------------------------------------------------

# Line and paragraph separators and control characters are read differently by libyaml.
TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)  # wider ones are refused
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@given(data=JSON_VALUES, flow=st.sampled_from([None, True, False]))
def test_loader_reads_what_pyyaml_reads(data: object, flow: bool | None) -> None:
    """The event loader and PyYAML's own give the same data for any dumped JSON value."""
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert load_document(text, "x.yaml").data == yaml.safe_load(text) == data


def test_loader_handles_anchors_and_merges_like_pyyaml() -> None:
    """Aliases share values; merged keys lose to written ones and to earlier merges."""
    text = (
        "a: &a {x: 1, y: 2}\n"
        "b: &b {y: 3, z: 4}\n"
        "c:\n  <<: [*a, *b]\n  x: 0\n"
        "d: {<<: *b, w: [*a]}\n"
        "e: ~\nf: 0x1F\ng: 1_000\nh: .5\ni: Yes\nj: !!str 12\nk: 'quoted'\n"
        "l: &n ~\nm: *n\nn: [&s text, *s]\n"
    )
    assert load_document(text, "x.yaml").data == yaml.safe_load(text)
    assert load_document("[<<, {<<: {a: 1}}]", "x.yaml").data == ["<<", {"a": 1}]


def test_pure_python_parser_gives_the_same_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the stack is the same, and errors are located the same."""
    text = stack(
        "  n: {type: node, inputs: {ip: x}}\n  s: {type: service, inputs: {ip: '${n.ip}'}}\n"
    )
    fast = parse(text)
    monkeypatch.setattr(stackfile_yaml, "_EventLoader", yaml.SafeLoader)
    assert parse(text) == fast
    error = fails(UnknownReferenceError, text.replace("${n.ip}", "${m.ip}"))
    assert error.location == "stack.yaml:21:35"


# --- includes -------------------------------------------------------------------------------


def test_includes_bring_types_relative_to_the_including_file() -> None:
    """Included files (and theirs, relative to them) add types; shared files count once."""
    files = {
        "/srv/app/lib/types.yaml": "include: [common.yaml, ../shared.yaml]\n"
        "types:\n  svc: {version: 1, inputs: {ip: {type: string}}}\n",
        "/srv/app/lib/common.yaml": "include: [../shared.yaml]\ntypes:\n  node: {version: 4}\n",
        "/srv/app/shared.yaml": "types:\n  lb: {version: 1}\n",
    }
    result = parse(
        "include: [lib/types.yaml, shared.yaml]\n"
        "resources:\n  n: {type: node}\n  s: {type: svc, inputs: {ip: a}}\n",
        files,
    )
    assert list(result.types) == ["lb", "node", "svc"]
    assert result.resources["n"].version == 4
    assert {t.base_dir for t in result.types.values()} == {"/srv/app"}


def test_unreadable_include_is_located_at_its_entry() -> None:
    """An OSError from read_file becomes a StackError at the include entry."""
    text = "include:\n  - types.yaml\n  - missing.yaml\n"
    error = fails(StackError, text, {"/srv/app/types.yaml": "types: {}\n"})
    assert error.location == "stack.yaml:3:5"
    assert "cannot read included file '/srv/app/missing.yaml'" in error.problem
    assert "No such file or directory" in error.problem
    assert isinstance(error.__cause__, FileNotFoundError)


def test_include_that_is_not_text_is_located_at_its_entry() -> None:
    """A reader's decoding error is reported like an unreadable file."""

    def read_file(path: str) -> str:
        return b"\xff".decode("utf-8")

    with pytest.raises(StackError) as info:
        parse_stack("include: [t.yaml]\n", source="s.yaml", base_dir="d", read_file=read_file)
    assert info.value.location == "s.yaml:1:11"
    assert "cannot read included file 'd/t.yaml': 'utf-8' codec can't decode" in str(info.value)


def test_include_cycle_is_an_error() -> None:
    """A file that includes itself through others is refused, naming the chain."""
    files = {
        "/srv/app/a.yaml": "include: [b.yaml]\n",
        "/srv/app/b.yaml": "types: {}\ninclude: [./a.yaml]\n",
    }
    error = fails(StackError, "include: [a.yaml]\n", files)
    assert error.location == "/srv/app/b.yaml:2:11"
    assert error.problem == "include cycle: /srv/app/a.yaml -> /srv/app/b.yaml -> /srv/app/a.yaml"


def test_type_defined_differently_names_both_files() -> None:
    """A type defined one way in an included file and another in the stack is one error
    naming both files."""
    files = {"/srv/app/types.yaml": "types:\n  # shared\n  node: {version: 1}\n"}
    error = fails(StackError, "include: [types.yaml]\ntypes:\n  node: {version: 2}\n", files)
    assert error.location == "stack.yaml:3:3"
    assert error.problem == (
        "type 'node' is defined differently in /srv/app/types.yaml and stack.yaml"
        " (first at /srv/app/types.yaml:3:3)"
    )


def test_included_file_holds_no_vars_or_outputs() -> None:
    """vars: and outputs: belong to the stack file; in an included file they are refused."""
    files = {"/srv/app/t.yaml": "types: {}\nvars: {}\n"}
    error = fails(StackSyntaxError, "include: [t.yaml]\n", files)
    assert error.location == "/srv/app/t.yaml:2:1"
    assert "unknown key 'vars' in an included file" in error.problem


def test_yaml_error_in_included_file_is_located_there() -> None:
    """A syntax error inside an included file names that file's line and column."""
    files = {"/srv/app/t.yaml": "types:\n  node: {version: 1\n"}
    error = fails(StackSyntaxError, "include: [t.yaml]\n", files)
    assert error.location == "/srv/app/t.yaml:3:1"
    assert "expected ',' or '}'" in error.problem


def test_include_without_a_reader_is_an_error() -> None:
    """With no read_file, an include cannot be followed and says so at its entry."""
    with pytest.raises(StackError) as info:
        parse_stack("include: [t.yaml]\n", source="s.yaml", base_dir="")
    assert info.value.location == "s.yaml:1:11"
    assert "no file reader" in info.value.problem


# --- shape errors (StackSyntaxError) --------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column() -> None:
    """A YAML syntax error is located where PyYAML found it."""
    error = fails(StackSyntaxError, "resources:\n  a: {type: node\n  b: [\n")
    assert error.location == "stack.yaml:3:4"
    assert error.problem.startswith("invalid YAML:")


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("- a\n- b\n", "1:1", "the top level of a stack file must be a mapping, got list"),
        ("types: {}\nresource: {}\n", "2:1", "unknown key 'resource' in a stack file"),
        ("resources:\n  a: {}\n  a: {}\n", "3:3", "duplicate key 'a'"),
        ("types: {}\n---\ntypes: {}\n", "2:1", "found a second one"),
        ("types:\n  t: {version: !!binary aGk=}\n", "2:16", "must be an integer >= 1"),
        ("types:\n  t: {version: !custom 1}\n", "2:16", "unsupported YAML tag '!custom'"),
        ("types:\n  t: {inputs: {}}\n", "2:3", "type 't' has no version"),
        ("types:\n  t: {version: 0}\n", "2:16", "must be an integer >= 1, got integer 0"),
        ("types:\n  t: {version: '1'}\n", "2:16", "got string '1'"),
        ("types:\n  t: {version: 1, input: {}}\n", "2:19", "unknown key 'input' in type 't'"),
        ("types:\n  t:\n    version: 1\n    inputs: {2x: {}}\n", "4:14", "invalid input name '2x'"),
        (
            "types:\n  t: {version: 1, inputs: {a: {type: str}}}\n",
            "2:38",
            "unknown type 'str' for input 'a' of type 't'; expected one of: string,",
        ),
        (
            "types:\n  t: {version: 1, inputs: {a: {secret: yes please}}}\n",
            "2:40",
            "secret of input 'a' of type 't' must be true or false",
        ),
        (
            "types:\n  t: {version: 1, actions: {deploy: {shell: x}}}\n",
            "2:29",
            "unknown key 'deploy' in actions of type 't'; "
            "expected one of: read, remove, run, update",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {timeout: 3}\n",
            "5:7",
            "action 'run' of type 't' has no handler; give one of: ansible, command, python, shell",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {shell: a, python: 'm:f'}\n",
            "5:23",
            "action 'run' of type 't' has more than one handler (shell, python)",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {bash: a}\n",
            "5:13",
            "unknown handler kind 'bash' in action 'run' of type 't'",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {python: deploy.run}\n",
            "5:21",
            "python handler of action 'run' of type 't' must be 'module:function'",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {shell: ''}\n",
            "5:20",
            "shell handler of action 'run' of type 't' must be a non-empty string",
        ),
        (
            "types:\n  t:\n    version: 1\n    actions:\n      run: {shell: a, timeout: 0}\n",
            "5:32",
            "timeout of action 'run' of type 't' must be a positive number of seconds",
        ),
        (
            "types:\n  t: {version: 1, retries: -1}\n",
            "2:28",
            "retries of type 't' must be an integer >= 0",
        ),
        ("types:\n  t: {version: 1, retries: true}\n", "2:28", "got boolean True"),
        (
            "types:\n  t: {version: 1, retry_delay: soon}\n",
            "2:32",
            "retry_delay of type 't' must be a number of seconds >= 0",
        ),
        (
            "types:\n  t: {version: 1, migrations: [{from: 1, to: two}]}\n",
            "2:46",
            "'to' of migration step 1 of type 't' must be an integer, got string 'two'",
        ),
        (
            "types:\n  t: {version: 1, migrations: [{to: 2}]}\n",
            "2:32",
            "migration step 1 of type 't' has no 'from' version",
        ),
        ("include: types.yaml\n", "1:10", "include must be a list of file paths, got string"),
    ],
)
def test_shape_errors(text: str, location: str, message: str) -> None:
    """Each malformed part is one StackSyntaxError at its own line and column."""
    error = fails(StackSyntaxError, text)
    assert error.location == f"stack.yaml:{location}"
    assert message in error.problem


@pytest.mark.parametrize(
    ("resources", "fragment", "message"),
    [
        ("  bad name: {type: node}\n", "bad name", "invalid resource name 'bad name'"),
        ("  n: {inputs: {ip: x}}\n", "n: {inputs", "resource 'n' has no type"),
        ("  n: {type: node, input: {ip: x}}\n", "input:", "unknown key 'input' in resource 'n'"),
        ("  n: {type: node, tags: {a: [1]}, inputs: {ip: x}}\n", "[1]", "must be a scalar"),
        ("  n: {type: node, inputs: [ip]}\n", "[ip]", "inputs of resource 'n' must be a mapping"),
        (
            "  n: {type: node, inputs: {ip: 'http://${m.ip}:80'}}\n",
            "'http://",
            "interpolation inside strings is not supported: 'http://${m.ip}:80';"
            ' a connection must be the whole value ("${resource.input}")',
        ),
        ("  n: {type: node, inputs: {ip: '${m}'}}\n", "'${m}'", "malformed connection '${m}'"),
        (
            "  n: {type: lb, inputs: {backends: [], extra: {x: '${m.ip}'}}}\n",
            "'${m.ip}'",
            "connection '${m.ip}' must be a whole input value or an element of a list input",
        ),
        (
            "  n: {type: lb, inputs: {backends: [['${m.ip}']]}}\n",
            "'${m.ip}'",
            "must be a whole input value or an element of a list input",
        ),
        ("  n: {type: lb, inputs: {backends: [.nan]}}\n", ".nan", "not a JSON value: number nan"),
    ],
)
def test_resource_shape_errors(resources: str, fragment: str, message: str) -> None:
    """Malformed resources and values are StackSyntaxErrors at the offending node."""
    text = stack(resources)
    error = fails(StackSyntaxError, text)
    assert error.location == locate(text, fragment)
    assert message in error.problem


# --- reference, type, missing-input and cycle errors ----------------------------------------


def test_unknown_type() -> None:
    """A resource naming an undefined type is located at the type's name."""
    text = stack("  n1: {type: node, inputs: {ip: x}}\n  web:\n    type: webserver\n")
    error = fails(UnknownTypeError, text)
    assert isinstance(error, UnknownTypeError)
    assert (error.resource, error.type_name) == ("web", "webserver")
    assert error.location == "stack.yaml:22:11"
    assert error.problem == "resource 'web' has unknown type 'webserver'"


def test_connection_to_unknown_resource() -> None:
    """``${ghost.ip}`` names no resource: located at the connection, fields say which."""
    text = stack("  k: {type: service, inputs: {ip: '${ghost.ip}'}}\n")
    error = fails(UnknownReferenceError, text)
    assert isinstance(error, UnknownReferenceError)
    assert (error.resource, error.input) == ("ghost", "ip")
    assert error.location == locate(text, "'${ghost.ip}'") == "stack.yaml:20:35"
    assert error.problem == "connection ${ghost.ip} names unknown resource 'ghost'"


def test_connection_to_undeclared_input_inside_a_list() -> None:
    """A list element naming an input its producer's type lacks is located at the element."""
    text = stack(
        "  n: {type: node, inputs: {ip: x}}\n"
        '  lb: {type: lb, inputs: {backends: [a, "${n.ip}", "${n.port}"]}}\n'
    )
    error = fails(UnknownReferenceError, text)
    assert isinstance(error, UnknownReferenceError)
    assert (error.resource, error.input) == ("n", "port")
    assert error.location == locate(text, '"${n.port}"')
    assert error.problem == "connection ${n.port}: resource 'n' (type 'node') has no input 'port'"


def test_undeclared_input_given_to_a_resource() -> None:
    """An input the type does not declare is refused at its key, listing what is declared."""
    text = stack("  n:\n    type: node\n    inputs:\n      ip: x\n      ipv6: y\n")
    error = fails(UnknownReferenceError, text)
    assert isinstance(error, UnknownReferenceError)
    assert (error.resource, error.input) == ("n", "ipv6")
    assert error.location == "stack.yaml:24:7"
    assert error.problem == "resource 'n' has no input 'ipv6' (type 'node' declares: ip)"


@pytest.mark.parametrize(
    ("inputs", "fragment", "expected", "shown"),
    [
        ("{ip: a, port: eighty}", "eighty", "integer", "got str 'eighty'"),
        ("{ip: a, port: true}", "true}", "integer", "got bool True"),
        ("{ip: a, port: 2.5}", "2.5", "integer", "got float 2.5"),
        ("{ip: [a]}", "[a]", "string", "got list ['a']"),
        ("{ip: a, weight: '2'}", "'2'", "number", "got str '2'"),
    ],
)
def test_literal_of_the_wrong_type(inputs: str, fragment: str, expected: str, shown: str) -> None:
    """A literal that its input's type does not accept is an InputTypeError at the value."""
    text = stack(f"  s: {{type: service, inputs: {inputs}}}\n")
    error = fails(InputTypeError, text)
    assert isinstance(error, InputTypeError)
    assert error.resource == "s"
    assert error.expected == expected
    assert error.location == locate(text, fragment)
    assert shown in error.problem


def test_list_with_connections_into_a_non_list_input() -> None:
    """A fan-in list is still a list: into a string input it is a type error."""
    text = stack(
        "  n: {type: node, inputs: {ip: x}}\n  m: {type: node, inputs: {ip: ['${n.ip}']}}\n"
    )
    error = fails(InputTypeError, text)
    assert error.location == locate(text, "['${n.ip}']")
    assert "input m.ip must be string, got list ['${n.ip}']" in error.problem


def test_secret_values_are_masked_in_errors() -> None:
    """A secret of the wrong type is reported by its type only, never its value."""
    text = stack("  s: {type: service, inputs: {ip: a, password: 12345}}\n")
    error = fails(InputTypeError, text)
    assert error.problem == "input s.password must be string, got int ***"
    assert "12345" not in str(error)
    text = stack("  s: {type: service, inputs: {ip: a, password: 'x${y}'}}\n")
    error = fails(StackSyntaxError, text)
    assert "x${y}" not in str(error)
    assert "interpolation inside strings is not supported: ***" in error.problem


def test_default_of_the_wrong_type() -> None:
    """A default its own input type rejects is an InputTypeError at the default."""
    text = "types:\n  t:\n    version: 1\n    inputs:\n      port: {type: integer, default: '80'}\n"
    error = fails(InputTypeError, text)
    assert error.location == "stack.yaml:5:38"
    assert error.problem == "input t.port must be integer, got str '80'"


def test_connection_between_different_kinds() -> None:
    """A whole-value connection from a string input into an integer input is refused."""
    text = stack(
        "  n: {type: node, inputs: {ip: x}}\n"
        "  s: {type: service, inputs: {ip: a, port: '${n.ip}'}}\n"
    )
    error = fails(InputTypeError, text)
    assert isinstance(error, InputTypeError)
    assert (error.resource, error.input) == ("s", "port")
    assert error.location == locate(text, "'${n.ip}'")
    assert error.problem == "input s.port must be integer (n.ip is string), got str '${n.ip}'"


def test_number_does_not_flow_into_integer() -> None:
    """Integers widen to numbers, not the other way round."""
    text = stack(
        "  a: {type: service, inputs: {ip: a}}\n"
        "  b: {type: service, inputs: {ip: b, port: '${a.weight}'}}\n"
    )
    assert "must be integer (a.weight is number)" in fails(InputTypeError, text).problem


def test_missing_required_input() -> None:
    """An input with no default and no value is reported at the resource."""
    text = stack("  n1: {type: node, inputs: {ip: x}}\n  web: {type: service, inputs: {port: 1}}\n")
    error = fails(MissingInputError, text)
    assert isinstance(error, MissingInputError)
    assert (error.resource, error.input) == ("web", "ip")
    assert error.location == "stack.yaml:21:3"
    assert error.problem == "resource 'web' is missing required input 'ip'"


def test_cycle_names_every_resource_in_data_flow_order() -> None:
    """a feeds b (in a list) feeds c feeds a: one CycleError naming all three, at a."""
    text = stack(
        "  x: {type: node, inputs: {ip: x}}\n"
        "  c: {type: service, inputs: {ip: '${b.extra}'}}\n"
        "  a: {type: service, inputs: {ip: '${c.ip}'}}\n"
        "  b: {type: lb, inputs: {backends: [x, '${a.ip}'], extra: '${x.ip}'}}\n"
    )
    error = fails(CycleError, text)
    assert isinstance(error, CycleError)
    assert error.cycle == ("a", "b", "c")
    assert error.problem == "dependency cycle: a -> b -> c -> a"
    assert error.location == "stack.yaml:22:3"


def test_connection_to_itself_is_a_cycle() -> None:
    """A resource fed by its own input waits for itself."""
    text = stack("  s: {type: service, inputs: {ip: a, weight: '${s.port}'}}\n")
    error = fails(CycleError, text)
    assert error.problem == "dependency cycle: s -> s"
    assert error.location == "stack.yaml:20:3"


def test_secret_must_not_flow_into_a_plain_input() -> None:
    """Connecting a secret input to an input not declared secret is refused, located."""
    text = stack(
        "  s: {type: service, inputs: {ip: a}}\n  n: {type: node, inputs: {ip: '${s.password}'}}\n"
    )
    error = fails(StackError, text)
    assert error.location == locate(text, "'${s.password}'")
    assert error.problem == (
        "input n.ip takes a secret from s.password; declare it secret: true in type 'node'"
    )


def test_secret_may_flow_into_a_secret_input() -> None:
    """A secret connected to another secret input resolves normally."""
    text = stack(
        "  s: {type: service, inputs: {ip: a}}\n"
        "  t: {type: service, inputs: {ip: b, password: '${s.password}'}}\n"
    )
    assert parse(text).resources["t"].connections == {"password": "s.password"}
