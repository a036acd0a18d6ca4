"""Pausing Python's cyclic garbage collector around bulk work.

Building or decoding tens of thousands of resources, changes or commits
allocates millions of containers and frees almost none; the collector then
traverses the growing heap again and again, which can double the time of
staging, planning or time travel at 100,000 resources. The values built there
hold no reference cycles, so pausing the collector keeps nothing alive longer.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
