"""An unfinished apply's counts are true before it finishes: `applies` counts its journal."""

from __future__ import annotations

from pathlib import Path

from .processes import run, run_json
from .stacks import deployment, write


def test_an_interrupted_apply_counts_its_commits(store_url: str, tmp_path: Path) -> None:
    """An apply killed after its first commits lists them as ok, in --json and in text."""
    write(tmp_path, "stack.yaml", deployment())
    fault = "after-commit:keystone1"
    died = run(store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT=fault)
    assert died.returncode != 0
    listed = run_json(store_url, tmp_path, "applies")["applies"]
    log = run_json(store_url, tmp_path, "log")["commits"]
    assert [a["status"] for a in listed] == ["interrupted"]
    assert (listed[0]["succeeded"], listed[0]["failed"], listed[0]["skipped"]) == (len(log), 0, 0)
    assert 2 <= len(log) < 4
    text = run(store_url, tmp_path, "applies").stdout.splitlines()
    assert text[1].split()[6:10] == ["interrupted", str(len(log)), "0", "0"]


def test_a_resumed_apply_counts_every_commit_once(store_url: str, tmp_path: Path) -> None:
    """After resume finishes the interrupted apply, its counts are the whole plan's."""
    write(tmp_path, "stack.yaml", deployment())
    run(store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT="after-commit:node1")
    assert run(store_url, tmp_path, "resume").returncode == 0
    listed = run_json(store_url, tmp_path, "applies")["applies"]
    assert [(a["status"], a["succeeded"], a["failed"]) for a in listed] == [("succeeded", 4, 0)]
