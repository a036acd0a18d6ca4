"""Commit turns of an apply: fast handlers get larger turns, still one commit per action.

Every turn that commits signs the head it leaves, so with a signing key and a
witness file the witness holds one line per turn: what these tests count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import retrograde
from retrograde.engine.window import BASE, LIMIT, Window
from retrograde.storage import signing

ACTIONS = 400


def noop_stack(directory: Path, count: int) -> Path:
    """``count`` independent resources whose actions are a no-op Python function."""
    (directory / "quick.py").write_text("def noop(context):\n    return None\n")
    resources = "".join(f"  r{i}: {{type: thing, inputs: {{n: {i}}}}}\n" for i in range(count))
    path = directory / "stack.yaml"
    path.write_text(
        "types:\n"
        "  thing:\n"
        "    version: 1\n"
        "    inputs:\n"
        "      n: {type: integer}\n"
        "    actions:\n"
        '      run: {python: "quick:noop"}\n'
        "resources:\n" + resources
    )
    return path


def test_fast_actions_commit_in_far_fewer_turns_than_actions(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 no-op actions on one worker: one commit each, in fewer than 40 turns (a window
    fixed at 8 actions took at least 50)."""
    signing.keygen(tmp_path / "owner.key")
    witness = tmp_path / "witness.jsonl"
    monkeypatch.setenv(signing.SIGNING_KEY_ENV, str(tmp_path / "owner.key"))
    monkeypatch.setenv(signing.WITNESS_ENV, str(witness))
    stack = noop_stack(tmp_path, ACTIONS)
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as ctx:
        retrograde.stage(ctx, stack)
        before = len(witness.read_text().splitlines()) if witness.exists() else 0
        report = retrograde.apply(ctx, jobs=1)
        assert report.status.value == "succeeded" and report.failed == ()
        assert sorted(report.commits) == list(range(1, ACTIONS + 1))
        assert len(retrograde.state(ctx).resources) == ACTIONS
    turns = len(witness.read_text().splitlines()) - before
    assert 0 < turns < ACTIONS // 10


def test_the_window_grows_with_results_and_decays_back() -> None:
    """A turn that brought back a full window doubles it (up to the limit); turns that bring
    back little shrink it, never below the base."""
    window = Window(capacity=2)
    assert window.size == 2 * BASE and window.room(in_flight=3) == 2 * BASE - 3
    for _ in range(20):
        window.turned(window.size)
    assert window.size == LIMIT
    assert window.room(in_flight=LIMIT + 5) == 0
    window.turned(1)
    assert LIMIT // 2 < window.size < LIMIT  # one small turn does not undo the growth
    for _ in range(40):
        window.turned(1)
    assert window.size == 2 * BASE + 2  # the base, and room for twice what came back
