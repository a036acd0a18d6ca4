"""Property: applying any edit of any stack and then reverting that apply restores state exactly.

Runs in-process on a SQLite store with types that have no actions (nothing to
execute), so that many random stacks stay fast; the shell-handler tests cover
the handlers.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retrograde
from retrograde.commands import rollback

NAMES = ("a", "b", "c", "d", "e")

TYPES = """types:
  t:
    version: VERSION
    inputs:
      x: {type: any}
      items: {type: list, default: []}
    actions: {}
"""

LITERALS = st.one_of(st.integers(0, 3), st.sampled_from(["p", "q"]), st.none(), st.just([1]))


@st.composite
def stack_texts(draw: st.DrawFn) -> str:
    """A stack of some of NAMES, each connected only to resources before it (no cycles).

    The type's version is 1 or 2, so some applies raise or lower it.
    """
    present = [name for name in NAMES if draw(st.booleans())]
    resources: dict[str, Any] = {}
    for index, name in enumerate(present):
        earlier = [f"${{{p}.x}}" for p in present[:index]]
        value = st.one_of(LITERALS, st.sampled_from(earlier)) if earlier else LITERALS
        element = st.one_of(st.integers(0, 3), st.sampled_from(earlier)) if earlier else LITERALS
        resource: dict[str, Any] = {
            "type": "t",
            "inputs": {"x": draw(value), "items": draw(st.lists(element, max_size=3))},
        }
        tags = draw(st.dictionaries(st.sampled_from(["node", "role"]), st.sampled_from("12")))
        if tags:
            resource["tags"] = tags
        resources[name] = resource
    version = draw(st.sampled_from("12"))
    return TYPES.replace("VERSION", version) + "resources: " + json.dumps(resources) + "\n"


def _state(ctx: retrograde.Context) -> dict[str, Any]:
    return {name: rs.to_json() for name, rs in retrograde.state(ctx).resources.items()}


def _apply(ctx: retrograde.Context, path: Path | None = None) -> retrograde.ApplyReport:
    report = retrograde.apply(ctx, path)
    assert report.status is retrograde.ApplyStatus.SUCCEEDED, report.failures
    return report


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=st.lists(stack_texts(), min_size=2, max_size=4))
def test_reverting_the_last_apply_restores_committed_state_exactly(versions: list[str]) -> None:
    """After any sequence of applies, reverting the last one (and then that revert) round-trips."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with retrograde.open_context(f"sqlite:///{work / 'state.db'}", cwd=work) as ctx:
            for number, text in enumerate(versions):
                (work / f"v{number}.yaml").write_text(text)
            for number in range(len(versions) - 1):
                _apply(ctx, work / f"v{number}.yaml")
            before = _state(ctx)
            last = _apply(ctx, work / f"v{len(versions) - 1}.yaml")
            if last.apply_id is None:
                return
            after = _state(ctx)
            rollback.revert(ctx, apply_id=last.apply_id)
            undo = _apply(ctx)
            assert _state(ctx) == before
            rollback.revert(ctx, apply_id=undo.apply_id)
            _apply(ctx)
            assert _state(ctx) == after
