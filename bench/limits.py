"""The physical floor: raw ``sqlite3`` appends of commit-sized rows, one transaction per row.

Usage: python bench/limits.py [--rows N] [--repeat R] [--dir DIR]

Appends N rows (default 5,000) of about 300 bytes to a table shaped like the
store's ``commits`` table (integer primary key, the same columns and the same
four secondary indexes) with nothing but the standard library's ``sqlite3``:
no SQLAlchemy, no JSON encoding, no hashing (the rows are built before the
clock starts). Each row is its own ``BEGIN IMMEDIATE … COMMIT`` in WAL mode,
once with ``synchronous=NORMAL`` (a commit is durable against a crash of the
process, not of the machine) and once with ``synchronous=FULL`` (every commit
is synced to disk: power-safe, retrograde's default). A third run puts all N
rows in one transaction, which shows what the inserts cost without the per-
commit sync. Modes alternate across repeats, each on a fresh database file in
DIR (default: the system temporary directory, where the other benchmarks put
their stores), and the table shows the median.

retrograde's apply overhead per action, measured by ``bench/compare.py`` in the
same way, can then be stated as a multiple of the ``FULL`` one-row figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROWS = 5_000
DEFAULT_REPEAT = 3

SCHEMA = """
CREATE TABLE commits (
    rev INTEGER NOT NULL PRIMARY KEY,
    apply_id INTEGER,
    resource TEXT NOT NULL,
    action TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    principal TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    message TEXT NOT NULL,
    reverts TEXT,
    hash TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX ix_commits_resource_rev ON commits (resource, rev);
CREATE INDEX ix_commits_apply_id_rev ON commits (apply_id, rev);
CREATE INDEX ix_commits_principal_rev ON commits (principal, rev);
CREATE INDEX ix_commits_action_rev ON commits (action, rev);
"""

INSERT = "INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

Row = tuple[int, int, str, str, str, int, str, str, str, None, str, str]


@dataclass(frozen=True)
class Mode:
    """One way of appending: the sync level and how many rows share a transaction (0: all)."""

    synchronous: str
    rows_per_transaction: int

    @property
    def label(self) -> str:
        per = "all" if self.rows_per_transaction == 0 else str(self.rows_per_transaction)
        return f"WAL | {self.synchronous} | {per}"


MODES = (Mode("NORMAL", 1), Mode("FULL", 1), Mode("FULL", 0))


def commit_row(rev: int) -> Row:
    """A row the size and shape of a run commit of a chained service (about 300 bytes)."""
    chain, link = divmod(rev, 10)
    payload = (
        f'{{"diff":{{"addr":{{"from":null,"to":"10.0.{chain}"}},'
        f'"upstream":{{"from":null,"to":"10.0.{chain}"}}}},'
        f'"connections":{{"before":null,"after":{{"addr":"svc-{chain}-{link}.addr"}}}}}}'
    )
    hash_hex = f"{rev:064x}"
    stamp = f"2025-01-06T08:00:{rev % 60:02d}.{rev % 1_000_000:06d}Z"
    return (
        rev,
        1,
        f"svc-{chain}-{link}",
        "run",
        "service",
        1,
        "bench",
        stamp,
        "bench",
        None,
        hash_hex,
        payload,
    )


def row_bytes(row: Row) -> int:
    """The row's size as stored text and integers (8 bytes each), without SQLite's framing."""
    return sum(8 if isinstance(v, int) else len(v.encode()) for v in row if v is not None)


def append_rows(path: Path, rows: int, mode: Mode) -> float:
    """Seconds to append ``rows`` commit rows to a fresh database at ``path`` in ``mode``."""
    data = [commit_row(rev) for rev in range(1, rows + 1)]
    per = mode.rows_per_transaction or rows
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={mode.synchronous}")
        conn.executescript(SCHEMA)
        started = time.perf_counter()
        for start in range(0, rows, per):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT, data[start : start + per])
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def fresh_append(directory: Path, rows: int, mode: Mode) -> float:
    """:func:`append_rows` on a new database file in ``directory``, removed afterwards."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        return append_rows(Path(tmp) / "floor.db", rows, mode)


def filesystem(path: Path) -> str:
    """The type and device of the file system holding ``path`` (from /proc/mounts)."""
    best = ("", "?", "?")
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "?"
    resolved = str(path.resolve())
    for line in mounts:
        device, point, kind = line.split()[:3]
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best[0]):
            best = (point, kind, device)
    return f"{best[1]} on {best[2]}"


def machine_line(directory: Path) -> str:
    """One line naming what the figures were measured on."""
    return (
        f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{directory} on {filesystem(directory)}, load average {os.getloadavg()[0]:.2f} at the end"
    )


def measure(directory: Path, rows: int, repeat: int) -> dict[Mode, float]:
    """Median seconds per mode over ``repeat`` rounds; the order of modes rotates each round."""
    times: dict[Mode, list[float]] = {mode: [] for mode in MODES}
    for round_ in range(repeat):
        shift = round_ % len(MODES)
        for mode in MODES[shift:] + MODES[:shift]:
            times[mode].append(fresh_append(directory, rows, mode))
            print(f"{mode.label}: {times[mode][-1]:.3f} s", file=sys.stderr)
    return {mode: statistics.median(values) for mode, values in times.items()}


def table(results: dict[Mode, float], rows: int) -> str:
    lines = [
        "| journal | synchronous | rows per transaction | rows | total | per row | rows/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for mode, seconds in results.items():
        lines.append(
            f"| {mode.label} | {rows:,} | {seconds:.3f} s "
            f"| {seconds * 1000 / rows:.4f} ms | {rows / seconds:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    results = measure(args.dir, args.rows, args.repeat)
    sample = [commit_row(rev) for rev in range(1, args.rows + 1)]
    mean_bytes = sum(map(row_bytes, sample)) / len(sample)
    print(machine_line(args.dir))
    print(
        f"rows: {mean_bytes:.0f} bytes on average, 4 secondary indexes; median of {args.repeat}\n"
    )
    print(table(results, args.rows))


if __name__ == "__main__":
    main()
