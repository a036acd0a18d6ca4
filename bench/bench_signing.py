"""Signing benchmark: what ``RETROGRADE_SIGNING_KEY`` costs per apply turn on the embedded store.

Usage: python bench/bench_signing.py [--resources N] [--applies K] [--rounds R]

Applies a deployment-shaped stack of N resources (default 20, no-op python
handlers) K times (default 30), each time a new generation so every
resource is updated, on a fresh embedded store (SQLite, WAL,
synchronous=FULL), once without a signing key and once with one (R rounds,
alternating, median reported). Reports milliseconds per apply, the number
of signed write turns per apply, and the difference per signed turn; and the
time of one Ed25519 signature alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from graphs import write_stack  # noqa: E402

import retrograde  # noqa: E402
from retrograde.model.chain import ChainPoint  # noqa: E402
from retrograde.storage import signing  # noqa: E402


def run(resources: int, applies: int, key: Path | None) -> tuple[float, int]:
    """Seconds per apply, and signatures made per apply."""
    if key is None:
        os.environ.pop(signing.SIGNING_KEY_ENV, None)
    else:
        os.environ[signing.SIGNING_KEY_ENV] = str(key)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stacks = [write_stack(work, resources, generation=g) for g in range(applies + 1)]
        url = f"sqlite:///{work / 'state.db'}"
        with retrograde.open_context(url, cwd=work, principal="bench") as ctx:
            retrograde.apply(ctx, stacks[0], message="first")
            start = time.perf_counter()
            for stack in stacks[1:]:
                retrograde.apply(ctx, stack, message="bench")
            elapsed = time.perf_counter() - start
            with ctx.store.read() as tx:
                signed = len(tx.chain.signatures())
    return elapsed / applies, signed // (applies + 1) if key else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=20)
    parser.add_argument("--applies", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        signing.keygen(key)
        plain, signed, turns = [], [], 0
        for _ in range(args.rounds):
            plain.append(run(args.resources, args.applies, None)[0])
            seconds, turns = run(args.resources, args.applies, key)
            signed.append(seconds)
        signer = signing.load_signer(key)
        point = ChainPoint(1, 1, "0" * 64)
        start = time.perf_counter()
        for _ in range(1_000):
            signer.sign(point, "2026-12-01T00:00:00Z")
        one = (time.perf_counter() - start) / 1_000
    base, with_key = statistics.median(plain), statistics.median(signed)
    print(f"{args.resources} resources, {args.applies} applies, median of {args.rounds} rounds")
    print(f"unsigned: {base * 1e3:.1f} ms per apply")
    print(f"signed:   {with_key * 1e3:.1f} ms per apply ({turns} signed turn(s) per apply)")
    extra = (with_key - base) / max(turns, 1)
    print(f"cost per signed turn: {extra * 1e3:.2f} ms; one Ed25519 signature: {one * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
