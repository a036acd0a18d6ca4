"""Stack parameters from literals: vars and their sources, includes with a prefix, outputs."""

from __future__ import annotations

import pytest

from retrograde.errors import StackError, StackSyntaxError, UnknownReferenceError, VarError
from retrograde.model.outputs import OutputDef, OutputRef, outputs_view
from retrograde.model.state import ResourceState
from retrograde.planning.stackfile import Stack, VarSources, parse_stack

TYPES = """\
types:
  node:
    version: 1
    inputs:
      ip: {type: string}
      port: {type: integer, default: 22}
      tags: {type: list, default: []}
  vault:
    version: 1
    inputs:
      token: {type: string, secret: true}
"""

VARS = """\
vars:
  ip: {type: string, default: 10.0.0.1}
  port: {type: integer}
  tags: {type: list, default: [a]}
  token: {type: string, secret: true, default: t0}
"""


def parse(text: str, includes: dict[str, str] | None = None, **given: object) -> Stack:
    """Parse ``text`` as ``stack.yaml`` in ``/srv/app`` with var values ``given``;
    ``includes`` backs the included files."""

    def read_file(path: str) -> str:
        if includes is None or path not in includes:
            raise FileNotFoundError(2, "No such file or directory", path)
        return includes[path]

    return parse_stack(
        text,
        source="stack.yaml",
        base_dir="/srv/app",
        read_file=read_file,
        vars=VarSources(**given),  # type: ignore[arg-type]
    )


def fails(
    error: type[StackError], text: str, includes: dict[str, str] | None = None, **given: object
) -> StackError:
    with pytest.raises(error) as info:
        parse(text, includes, **given)
    assert len(str(info.value).splitlines()) == 1
    return info.value


WEB = (
    VARS
    + TYPES
    + 'resources:\n  web: {type: node, inputs: {ip: "${var.ip}", port: "${var.port}"}}\n'
)


# --- where values come from ---------------------------------------------------------------


def test_var_precedence_is_flag_then_file_then_environment_then_default() -> None:
    """Each source wins over the ones below it; later var files win over earlier ones."""

    def ip(**given: object) -> object:
        return parse(WEB, **{"flags": [("port", "1")], **given}).resources["web"].inputs["ip"]

    assert ip() == "10.0.0.1"
    assert ip(environment={"ip": "env"}) == "env"
    files = [("a.yaml", "ip: first\n"), ("b.yaml", "ip: second\n")]
    assert ip(environment={"ip": "env"}, files=files) == "second"
    assert ip(environment={"ip": "env"}, files=files[:1]) == "first"
    flags = [("port", "1"), ("ip", "one"), ("ip", "flag")]
    assert ip(environment={"ip": "env"}, files=files, flags=flags) == "flag"


def test_text_values_are_read_by_the_var_type() -> None:
    """A string var keeps its text as it is; other kinds read it as YAML (lists too)."""
    text = (
        VARS
        + TYPES
        + (
            "resources:\n"
            "  web: {type: node, inputs:"
            ' {ip: "${var.ip}", port: "${var.port}", tags: "${var.tags}"}}\n'
        )
    )
    given = [("ip", "010"), ("port", "8080"), ("tags", "[x, 'y z']")]
    inputs = parse(text, flags=given).resources["web"].inputs
    assert inputs == {"ip": "010", "port": 8080, "tags": ["x", "y z"]}
    from_env = parse(text, environment={"port": "7"}).resources["web"].inputs
    assert from_env["port"] == 7 and from_env["tags"] == ["a"]


def test_a_var_inside_text_and_as_a_list_element() -> None:
    """${var.x} inside text is its value as text; $${var.x} stays literal text."""
    text = (
        VARS
        + TYPES
        + (
            "resources:\n"
            '  web: {type: node, inputs: {ip: "h-${var.ip}:${var.port}/$${var.ip}",'
            ' tags: ["${var.ip}", "${web0.ip}", 3]}}\n'
            "  web0: {type: node, inputs: {ip: x}}\n"
        )
    )
    web = parse(text, flags=[("port", "80")]).resources["web"]
    assert web.inputs["ip"] == "h-10.0.0.1:80/${var.ip}"
    assert web.inputs["tags"] == ["10.0.0.1", None, 3]
    assert web.connections == {"tags": [None, "web0.ip", None]}


# --- bad values: one line, naming the var and where it is used ------------------------------


def test_a_var_without_a_value_is_named_where_it_is_first_used() -> None:
    """No flag, file, environment or default: refused at the first use."""
    error = fails(VarError, WEB)
    assert str(error) == (
        "stack.yaml:18:53: var 'port' has no value: give --var port=VALUE, a --var-file"
        " or RETROGRADE_VAR_port"
    )
    assert isinstance(error, VarError) and error.var == "port"


def test_an_unused_var_without_a_value_is_named_at_its_declaration() -> None:
    """A var no value reaches is refused even when nothing uses it."""
    error = fails(VarError, VARS + TYPES)
    assert error.location == "stack.yaml:3:3"
    assert "var 'port' has no value" in error.problem


def test_a_var_of_the_wrong_type_names_its_source() -> None:
    """A value that is not of the var's type is refused where the var is used."""
    error = fails(VarError, WEB, flags=[("port", "eighty")])
    assert str(error) == (
        "stack.yaml:18:53: var 'port' must be integer, got string 'eighty' (from --var port=...)"
    )
    error = fails(VarError, WEB, files=[("v.yaml", "port: [1]\n")])
    assert error.problem == "var 'port' must be integer, got list [1] (from var file v.yaml)"


def test_a_var_whose_type_does_not_fit_the_input_is_an_input_error() -> None:
    """A list var as a string input is refused naming resource.input."""
    text = WEB.replace('ip: "${var.ip}"', 'ip: "${var.tags}"')
    error = fails(StackError, text, flags=[("port", "1")])
    assert error.problem.startswith("input web.ip must be string")


def test_unknown_var_names_from_outside_are_errors() -> None:
    """A --var or var file entry the stack does not declare is refused."""
    error = fails(VarError, WEB, flags=[("port", "1"), ("prot", "2")])
    assert str(error) == (
        "--var prot: stack.yaml declares no var 'prot' (it declares: ip, port, tags, token)"
    )
    error = fails(VarError, WEB, flags=[("port", "1")], files=[("v.yaml", "ip: x\nprot: 2\n")])
    assert error.location == "v.yaml:2:1"
    assert error.problem == "stack.yaml declares no var 'prot' (it declares: ip, port, tags, token)"


def test_using_an_undeclared_var_is_an_error() -> None:
    """${var.nope} names the vars the stack declares."""
    text = WEB.replace("${var.ip}", "${var.nope}")
    error = fails(VarError, text, flags=[("port", "1")])
    assert error.problem == "unknown var 'nope' (the stack declares: ip, port, tags, token)"


@pytest.mark.parametrize("data", ["[ip, port]", "just text", "7"])
def test_a_var_file_that_is_not_a_mapping_is_refused(data: str) -> None:
    """A var file holds a mapping of names to values, else one located error."""
    error = fails(StackSyntaxError, WEB, None, files=[("v.yaml", data)])
    assert error.location == "v.yaml:1:1"
    assert error.problem.startswith("a var file must be a mapping of var names to values, got ")


def test_list_var_inside_text_is_refused() -> None:
    """A list cannot be part of a text."""
    text = WEB.replace('ip: "${var.ip}"', 'ip: "x-${var.tags}"')
    error = fails(VarError, text, flags=[("port", "1")])
    assert "var 'tags' is a list: it can be a whole value, but not part of a text" in str(error)


# --- secrets -----------------------------------------------------------------------------


def test_a_secret_var_may_only_land_in_a_secret_input() -> None:
    """A secret var in a plain input is refused; in a secret input it is the value."""
    ok = WEB + '  v: {type: vault, inputs: {token: "${var.token}"}}\n'
    assert parse(ok, flags=[("port", "1")]).resources["v"].inputs == {"token": "t0"}
    error = fails(VarError, WEB.replace("${var.ip}", "${var.token}"), flags=[("port", "1")])
    assert error.problem == (
        "secret var 'token' is used in input web.ip, which is not secret;"
        " declare that input secret: true in its type"
    )


def test_a_secret_var_of_the_wrong_type_is_not_shown() -> None:
    """The value of a secret var never appears in an error about it."""
    text = WEB.replace("token: {type: string", "token: {type: integer")
    text += '  v: {type: vault, inputs: {token: "${var.token}"}}\n'
    error = fails(StackError, text, flags=[("port", "1"), ("token", "hunter2")])
    assert "hunter2" not in str(error) and "***" in str(error)
    error = fails(StackError, text, flags=[("port", "1"), ("token", "[hunter2")])
    assert "hunter2" not in str(error)


# --- hostile values stay data ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "${web0.ip}",
        "$${web0.ip}",
        "${var.port}",
        "x'; rm -rf / #",
        "$(touch pwned)",
        "a$",
        "{{ 7*7 }}",
    ],
)
def test_a_var_value_is_data_wherever_it_lands(value: str) -> None:
    """A value holding ${...}, $${, shell or template syntax is those characters, no
    connection and no other var, whole or inside text."""
    text = (
        VARS
        + TYPES
        + (
            "resources:\n"
            '  web: {type: node, inputs: {ip: "${var.ip}", tags: ["${var.ip}", "<${var.ip}>{"]}}\n'
            "  web0: {type: node, inputs: {ip: x}}\n"
        )
    )
    web = parse(text, flags=[("ip", value), ("port", "1")]).resources["web"]
    assert web.inputs == {"ip": value, "port": 22, "tags": [value, f"<{value}>{{"]}
    assert web.connections == {}


# --- includes with resources and a prefix ---------------------------------------------------

MODULE = """\
types:
  db:
    version: 1
    inputs: {host: {type: string}, peer: {type: string, default: ""}}
resources:
  db: {type: db, inputs: {host: "${net.ip}"}}
  replica: {type: db, inputs: {host: "${db.host}", peer: "${web.ip}"}}
"""


def test_one_file_included_twice_under_two_prefixes() -> None:
    """Each prefix gets its own resources; a name the file defines is its own (prefixed),
    any other is the includer's."""
    text = (
        "include: [{file: mod/db.yaml, prefix: eu-}, {file: mod/db.yaml, prefix: us.}]\n"
        + TYPES
        + "resources:\n  net: {type: node, inputs: {ip: 10.0.0.9}}\n"
        + '  web: {type: node, inputs: {ip: "${eu-db.host}"}}\n'
    )
    stack = parse(text, {"/srv/app/mod/db.yaml": MODULE})
    assert list(stack.resources) == ["eu-db", "eu-replica", "us.db", "us.replica", "net", "web"]
    connections = {name: rs.connections for name, rs in stack.resources.items()}
    assert connections["eu-db"] == {"host": "net.ip"}
    assert connections["eu-replica"] == {"host": "eu-db.host", "peer": "web.ip"}
    assert connections["us.replica"] == {"host": "us.db.host", "peer": "web.ip"}
    assert connections["web"] == {"ip": "eu-db.host"}
    assert list(stack.types) == ["db", "node", "vault"]


def test_prefixes_of_nested_includes_add_up() -> None:
    """A prefixed file's own includes are prefixed under it."""
    files = {
        "/srv/app/outer.yaml": "include: [{file: mod/db.yaml, prefix: a-}]\n",
        "/srv/app/mod/db.yaml": MODULE,
    }
    text = (
        "include: [{file: outer.yaml, prefix: x-}]\n"
        + TYPES
        + (
            "resources:\n  net: {type: node, inputs: {ip: n}}\n"
            "  web: {type: node, inputs: {ip: w}}\n"
        )
    )
    assert {"x-a-db", "x-a-replica"} <= set(parse(text, files).resources)


def test_a_connection_to_an_unknown_resource_in_an_included_file_is_located_there() -> None:
    """The error names the included file's line and column."""
    text = "include: [{file: mod/db.yaml, prefix: eu-}]\n" + TYPES
    error = fails(UnknownReferenceError, text, {"/srv/app/mod/db.yaml": MODULE})
    assert error.location == "/srv/app/mod/db.yaml:6:33"
    assert error.problem == "connection ${net.ip} names unknown resource 'net'"


def test_a_resource_name_taken_twice_through_a_prefix_is_an_error() -> None:
    """eu-db from the include and eu-db in the stack are one name: refused, naming both."""
    text = (
        "include: [{file: mod/db.yaml, prefix: eu-}]\n"
        + TYPES
        + (
            "resources:\n  net: {type: node, inputs: {ip: n}}\n"
            "  web: {type: node, inputs: {ip: w}}\n"
            "  eu-db: {type: node, inputs: {ip: x}}\n"
        )
    )
    error = fails(StackError, text, {"/srv/app/mod/db.yaml": MODULE})
    assert error.location == "stack.yaml:16:3"
    assert error.problem == "resource 'eu-db' is defined twice (first at /srv/app/mod/db.yaml:6:3)"


def test_the_same_type_from_two_files_merges_and_a_different_one_is_an_error() -> None:
    """Identical definitions are one type; differing ones name both files."""
    same = "types:\n  node: {version: 1, inputs: {ip: {type: string}}}\n"
    files = {"/srv/app/a.yaml": same, "/srv/app/b.yaml": same}
    assert list(parse("include: [a.yaml, b.yaml]\n", files).types) == ["node"]
    files["/srv/app/b.yaml"] = same.replace("string", "integer")
    error = fails(StackError, "include: [a.yaml, b.yaml]\n", files)
    assert error.location == "/srv/app/b.yaml:2:3"
    assert error.problem == (
        "type 'node' is defined differently in /srv/app/a.yaml and /srv/app/b.yaml"
        " (first at /srv/app/a.yaml:2:3)"
    )


@pytest.mark.parametrize("prefix", ["eu/", "${x}", "a b", "-eu", "eu\n", "../", "x" * 101])
def test_an_include_prefix_with_odd_characters_is_refused(prefix: str) -> None:
    """A prefix must make resource names; anything else is one located error."""
    text = f"include: [{{file: mod/db.yaml, prefix: {prefix!r}}}]\n".replace("\n'", "\\n'")
    text = text.replace(repr(prefix), '"' + prefix.replace("\n", "\\n") + '"')
    error = fails(StackSyntaxError, text, {"/srv/app/mod/db.yaml": MODULE})
    assert error.location == "stack.yaml:1:39"
    assert error.problem.startswith("an include prefix must match")


def test_an_include_entry_with_an_unknown_key_is_refused() -> None:
    """{file, prefix} are the keys of an include entry."""
    error = fails(StackSyntaxError, "include: [{file: a.yaml, as: x}]\n")
    assert "unknown key 'as' in an include entry" in error.problem


# --- outputs -------------------------------------------------------------------------------

OUTPUTS = WEB + '  v: {type: vault, inputs: {token: "${var.token}"}}\n'


def test_outputs_are_references_and_text_around_them() -> None:
    """A whole reference keeps the value's type; text joins values as text; vars are data."""
    text = OUTPUTS + (
        "outputs:\n"
        '  port: "${web.port}"\n'
        '  url: "http://${web.ip}:${web.port}/${var.ip}$${x}"\n'
        '  token: "${v.token}"\n'
        '  secret_text: "t=${var.token}"\n'
    )
    outputs = parse(text, flags=[("port", "8080")]).outputs
    assert outputs["port"] == OutputDef("port", (OutputRef("web", "port"),))
    assert outputs["url"].parts == (
        "http://",
        OutputRef("web", "ip"),
        ":",
        OutputRef("web", "port"),
        "/",
        "10.0.0.1",
        "${x}",
    )
    assert outputs["token"].secret and outputs["secret_text"].secret
    assert "t0" not in str(outputs["secret_text"].to_json())  # a secret var's value is not kept
    state = {
        "web": ResourceState("node", 1, {"ip": "10.1.1.1", "port": 8080, "tags": []}),
        "v": ResourceState("vault", 1, {"token": "t0"}),
    }
    view = outputs_view(list(outputs.values()), state, lambda t: frozenset({"token"}))
    assert view == {
        "outputs": {
            "port": 8080,
            "url": "http://10.1.1.1:8080/10.0.0.1${x}",
            "token": "***",
            "secret_text": "***",
        }
    }
    assert outputs_view(list(outputs.values()), {}, lambda t: frozenset())["outputs"]["url"] is None


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ('"${nope.ip}"', "output ${nope.ip} names unknown resource 'nope'"),
        ('"${web.nope}"', "output ${web.nope}: resource 'web' (type 'node') has no input 'nope'"),
        ('"x${web.tags}"', "${web.tags} is a list input: it can be a whole output"),
        ('"${web ip}"', "malformed reference ${web ip} in an output"),
        ('"${web.ip"', "an unclosed ${ in an output"),
    ],
)
def test_a_bad_output_is_one_located_error(output: str, problem: str) -> None:
    """Outputs are checked against the stack's resources when the file is read."""
    error = fails(StackError, OUTPUTS + f"outputs:\n  o: {output}\n", flags=[("port", "1")])
    assert error.location == "stack.yaml:21:6"
    assert problem in error.problem


def test_any_other_output_value_is_a_constant_kept_as_data() -> None:
    """A list or number output is a constant; a ${...} inside it is not read."""
    text = OUTPUTS + 'outputs:\n  o: [1, "${web.ip}"]\n  n: 7\n'
    outputs = parse(text, flags=[("port", "1")]).outputs
    assert outputs["o"] == OutputDef("o", ([1, "${web.ip}"],))
    assert outputs_view(list(outputs.values()), {}, lambda t: frozenset()) == {
        "outputs": {"o": [1, "${web.ip}"], "n": 7}
    }


def test_a_var_file_alias_bomb_is_refused_quickly() -> None:
    """A var file is held to the stack file's alias limit, located in the var file."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    error = fails(StackError, WEB, None, files=[("bomb.yaml", "\n".join(lines) + "\n")])
    assert error.location is not None and error.location.startswith("bomb.yaml:")
    assert "expands the document past" in error.problem


def test_a_var_name_with_a_line_break_is_one_line() -> None:
    """An unknown --var name holding control characters is refused in one escaped line."""
    error = fails(VarError, WEB, flags=[("port", "1"), ("a\nb\x1b[31m", "x")])
    assert "a\\x0ab\\x1b[31m" in str(error)
