"""The output verb: the stack's outputs, evaluated against committed state."""

from __future__ import annotations

from retrograde.commands.context import Context
from retrograde.commands.views import Secrets
from retrograde.errors import NotFoundError
from retrograde.model.outputs import OutputRef, OutputsView, outputs_view


def output(ctx: Context, name: str | None = None) -> OutputsView:
    """Every output of the stack file last staged (or only ``name``), with its value in
    committed state: secrets as ``***``, None while a resource it names is not committed.

    The definitions were stored when the stack was staged, so no stack file is
    needed; :class:`NotFoundError` for a ``name`` the stack does not define.
    """
    with ctx.store.read() as tx:
        definitions = tx.state.outputs()
        if name is not None:
            definitions = [d for d in definitions if d.name == name]
            if not definitions:
                raise NotFoundError("output", name)
        refs = {p.resource for d in definitions for p in d.parts if isinstance(p, OutputRef)}
        state = tx.state.load(refs) if refs else {}
        secrets = Secrets(tx.state.types({rs.type_key for rs in state.values()}))
    return outputs_view(definitions, state, secrets.of)
