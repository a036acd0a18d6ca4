"""The adopt command: record resources that already exist as committed, running no handler."""

from __future__ import annotations

from pathlib import Path

import click

from retrograde.cli.session import (
    Session,
    emit_json,
    executor_option,
    jobs_option,
    json_option,
    pass_session,
)
from retrograde.cli.stack_vars import allow_include_option, stack_vars, var_options
from retrograde.cli.text import Lines, name_list


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("resources", nargs=-1, required=True, metavar="R...")
@click.option("--read", "use_read", is_flag=True, help="Take the inputs their read actions report.")
@click.option("--message", "-m", default="", help="Message of the adopt commits.")
@allow_include_option
@var_options
@jobs_option
@executor_option
@json_option
@pass_session
def adopt(
    session: Session,
    file: Path,
    resources: tuple[str, ...],
    use_read: bool,
    message: str,
    allow_include: tuple[Path, ...],
    var_values: tuple[tuple[str, str], ...],
    var_files: tuple[Path, ...],
    jobs: int,
    executor: str,
    as_json: bool,
) -> None:
    """Record resources R... of FILE that already exist as committed, without running them.

    One adopt commit per resource, with FILE's values (values flow through
    connections first) or, with --read, what each resource's read action
    reports over them. No run handler runs; afterwards `stage FILE` has
    nothing to do for them. All or nothing: refused while changes are staged,
    for a resource already committed, or one connected to a resource that is
    neither committed nor adopted with it.
    """
    from retrograde.commands.adopting import adopt as adopt_verb
    from retrograde.commands.views import commit_json

    commits = adopt_verb(
        session.context,
        file,
        resources,
        read=use_read,
        message=message,
        executor=executor,
        jobs=jobs,
        allow_include=allow_include,
        stack_vars=stack_vars(var_values, var_files),
    )
    if as_json:
        secrets = session.secrets()
        emit_json({"commits": [commit_json(commit, secrets) for commit in commits]})
        return
    lines = Lines()
    names = name_list([commit.resource for commit in commits])
    revs = f"r{commits[0].rev}..r{commits[-1].rev}"
    lines.add(f"Adopted {len(commits)} resource(s) ({revs}): {names}")
    lines.print(session.out)
