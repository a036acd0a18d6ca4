"""Revision and apply numbers: positive integers that fit the store's 64-bit columns.

Both back ends keep revisions and apply ids in signed 64-bit integers, so a
number above :data:`MAX_NUMBER` can name nothing; asking the database about
one makes the driver overflow. Callers check numbers here first, so such a
number is an unknown revision or apply like any other that does not exist.
"""

from __future__ import annotations

from retrograde.errors import NotFoundError

MAX_NUMBER = 2**63 - 1
"""The largest revision or apply id a store can hold (a signed 64-bit integer)."""


def check_number(kind: str, number: int, *, minimum: int = 1) -> int:
    """``number`` if it lies in ``minimum..MAX_NUMBER``, else :class:`NotFoundError` of ``kind``."""
    if not minimum <= number <= MAX_NUMBER:
        raise NotFoundError(kind, number)
    return number
