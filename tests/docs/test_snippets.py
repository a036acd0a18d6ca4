"""Every runnable shell snippet in README.md and docs/*.md runs as written.

A ```` ```sh ```` block is runnable when its first line is the comment
``# runs as written``. The runnable blocks of one document run in order, as one
bash script under ``set -e`` (as a reader would type them into one terminal,
so a ``cd`` carries over), in a fresh copy of ``examples/`` with a fresh store
(``RETROGRADE_DB`` unset: each copy has its own default store), with this
interpreter's ``retrograde`` and ``python3`` first on ``PATH``. A command that
fails fails the test, with the script's output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "# runs as written"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def runnable_blocks(document: Path) -> list[str]:
    """The ```sh blocks of ``document`` whose first line is the mark, in order."""
    return [
        block
        for block in BLOCK.findall(document.read_text(encoding="utf-8"))
        if block.startswith(MARK)
    ]


def run_document(document: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The runnable blocks of ``document`` as one script in ``workdir`` (with examples/)."""
    shutil.copytree(ROOT / "examples", workdir / "examples", ignore=_ignored)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROGRADE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["RETROGRADE_PRINCIPAL"] = "reader"
    script = "set -e\n" + "\n".join(runnable_blocks(document))
    return subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ignored(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name in {"out", ".retrograde", "__pycache__"}]


WITH_SNIPPETS = [d for d in DOCUMENTS if runnable_blocks(d)]


def test_the_readme_tour_and_undo_sections_are_runnable() -> None:
    """The convention is in use where readers start: the README's tour and undo sections."""
    assert len(runnable_blocks(ROOT / "README.md")) >= 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each document's run, made once: the README's is read by two tests."""
    return {}


def ran(
    runs: dict[str, subprocess.CompletedProcess[str]], document: Path, workdir: Path
) -> subprocess.CompletedProcess[str]:
    if document.name not in runs:
        runs[document.name] = run_document(document, workdir)
    return runs[document.name]


@pytest.mark.parametrize("document", WITH_SNIPPETS, ids=lambda d: d.name)
def test_runnable_snippets_run_as_written(
    document: Path, tmp_path: Path, runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    """Each document's runnable blocks, in order, exit 0."""
    done = ran(runs, document, tmp_path)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"


def test_the_readme_rollback_example_changes_something(
    tmp_path: Path, runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    """The undo section's rollback stages a change (its apply then writes a commit)."""
    done = ran(runs, ROOT / "README.md", tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("roll back to")]
    assert "nothing to change" not in line, line
    assert re.search(r"roll back to rev \d+ \(checkpoint v1\): [1-9]\d* change", line), line


def test_the_demo_works_in_a_directory_of_its_own(tmp_path: Path) -> None:
    """examples/demo.sh runs in RETROGRADE_DEMO_DIR and leaves examples/deployment as it was,
    so it never meets the README tour's store or files."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=_ignored)
    deployment = tmp_path / "examples" / "deployment"
    before = sorted(p.relative_to(deployment) for p in deployment.rglob("*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETROGRADE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["RETROGRADE_DEMO_DIR"] = str(tmp_path / "demo")
    done = subprocess.run(
        ["bash", str(tmp_path / "examples" / "demo.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert (tmp_path / "demo" / "out" / "demo.db").is_file()
    assert (tmp_path / "demo" / "out" / "node2" / "haproxy.conf").is_file()
    assert sorted(p.relative_to(deployment) for p in deployment.rglob("*")) == before
