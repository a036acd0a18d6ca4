"""Command-line benchmark: every text verb against its ``--json`` form, as new processes.

Usage: python bench/bench_cli.py [N ...] [--repeat R] [--dir DIR]

For each N (default 20,000) it builds a deployment-shaped stack (``graphs.py``:
N/10 chains of 10 connected services and a balancer, N + 1 resources) on two
fresh embedded stores and times ``retrograde VERB`` and ``retrograde VERB
--json`` each as a new process (Python start, store open, the verb, output
written to a file), the two forms alternating, R rounds, median shown:

- on an empty store with the stack staged: ``stage``, ``diff``, ``plan``;
- ``apply --yes`` of it (text on one store, ``--json`` on the other);
- on the applied store: ``state``, ``state --at`` the middle revision,
  ``log``, ``applies``, ``revert --apply 1 --dry-run``;
- with a new generation of the stack staged (every resource updated):
  ``stage``, ``diff``, ``plan``.

Prints, per verb, both times, their ratio, and the text output's lines and
bytes, and whether the text form met its target (within 2x the ``--json``
time and under 3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from graphs import write_stack  # noqa: E402

CLI = [sys.executable, "-m", "retrograde.cli.main"]
TARGET_RATIO = 2.0
TARGET_SECONDS = 3.0


@dataclass
class Figure:
    """One verb's text and JSON timings (seconds) and the size of its text output."""

    verb: str
    text_s: float
    json_s: float
    lines: int
    size: int

    @property
    def ratio(self) -> float:
        return self.text_s / self.json_s if self.json_s else float("inf")

    @property
    def marks(self) -> str:
        """Whether the text form is within 2x its ``--json`` time, and under 3 s."""
        ratio = "yes" if self.text_s <= TARGET_RATIO * self.json_s else "NO"
        fast = "yes" if self.text_s < TARGET_SECONDS else "no"
        return f"{ratio} | {fast}"


class Runner:
    """Runs ``retrograde --db URL ARGS`` in ``work`` as a new process, output to a file."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {**os.environ, "PYTHONPATH": str(HERE), "RETROGRADE_PRINCIPAL": "bench"}
        self.env.pop("COLUMNS", None)

    def run(self, url: str, args: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, bytes]:
        out = self.work / "out.txt"
        started = time.perf_counter()
        with out.open("wb") as sink:
            code = subprocess.run(
                [*CLI, "--db", url, *args], cwd=self.work, env=self.env, stdout=sink, check=False
            ).returncode
        elapsed = time.perf_counter() - started
        if code not in ok:
            raise SystemExit(f"retrograde {' '.join(args)} exited {code}")
        return elapsed, out.read_bytes()

    def pair(self, url: str, verb: str, args: list[str], repeat: int) -> Figure:
        """Median of ``repeat`` rounds of the text form and the ``--json`` form, alternating."""
        texts: list[float] = []
        jsons: list[float] = []
        output = b""
        for round_ in range(repeat):
            order = [False, True] if round_ % 2 == 0 else [True, False]
            for as_json in order:
                elapsed, printed = self.run(url, [*args, "--json"] if as_json else args)
                (jsons if as_json else texts).append(elapsed)
                if not as_json:
                    output = printed
        text_s, json_s = statistics.median(texts), statistics.median(jsons)
        return Figure(verb, text_s, json_s, output.count(b"\n"), len(output))


def measure(n: int, repeat: int, work: Path) -> list[Figure]:
    """Every verb at size ``n``, on two stores under ``work``."""
    runner = Runner(work)
    first = write_stack(work, n).name
    second = write_stack(work, n, generation=1).name
    text_db, json_db = (f"sqlite:///{work / name}" for name in ("text.db", "json.db"))
    figures = [
        runner.pair(text_db, "stage (new)", ["stage", first], repeat),
        runner.pair(text_db, "diff (new)", ["diff"], repeat),
        runner.pair(text_db, "plan (new)", ["plan"], repeat),
    ]
    runner.run(json_db, ["stage", first, "--json"])
    figures.append(apply_pair(runner, text_db, json_db))
    middle = str(n // 2)
    for verb, args in (
        ("state", ["state"]),
        ("state --at", ["state", "--at", middle]),
        ("log", ["log"]),
        ("applies", ["applies"]),
        ("revert --apply --dry-run", ["revert", "--apply", "1", "--dry-run"]),
    ):
        figures.append(runner.pair(text_db, verb, args, repeat))
    figures += [
        runner.pair(text_db, "stage (update all)", ["stage", second], repeat),
        runner.pair(text_db, "diff (update all)", ["diff"], repeat),
        runner.pair(text_db, "plan (update all)", ["plan"], repeat),
    ]
    return figures


def apply_pair(runner: Runner, text_db: str, json_db: str) -> Figure:
    """``apply --yes`` once as text (on one store) and once as JSON (on the other)."""
    text_s, printed = runner.run(text_db, ["apply", "--yes", "-m", "bench"])
    json_s, _ = runner.run(json_db, ["apply", "--yes", "-m", "bench", "--json"])
    return Figure("apply --yes", text_s, json_s, printed.count(b"\n"), len(printed))


def table(n: int, figures: list[Figure]) -> str:
    lines = [
        f"N = {n:,} ({n + 1:,} resources)",
        "",
        "| verb | text | --json | text / json | text lines | text bytes | <= 2x | < 3 s |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| `{f.verb}` | {f.text_s:.2f} s | {f.json_s:.2f} s | {f.ratio:.2f}x "
            f"| {f.lines:,} | {f.size:,} | {f.marks} |"
        )
    return "\n".join(lines)


def machine() -> str:
    import platform
    import sqlite3

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load {load:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[20_000])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per verb (median shown)")
    parser.add_argument("--dir", type=Path, help="where the stores go (default: a temporary one)")
    args = parser.parse_args()
    print(machine())
    for n in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            figures = measure(n, args.repeat, Path(tmp))
        print()
        print(table(n, figures), flush=True)


if __name__ == "__main__":
    main()
