"""The shared fixtures (``ctx``, ``invoke``) live in ``tests/conftest.py``."""

from tests.conftest import Invoke

__all__ = ["Invoke"]
