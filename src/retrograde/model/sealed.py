"""Sealed values: how a secret input's value looks once encrypted at rest (pure, no crypto).

A secret value is stored, committed, snapshotted and exported as the JSON
object ``{"$sealed": "v1.<base64>"}``: AES-GCM ciphertext (nonce first) of the
value's canonical JSON, bound to its resource and input. Being JSON, it flows
through the commit log, its hashes and exports like any value; being
recognisable on its own, code that opens values needs no type definitions to
find it. The encryption itself lives in ``retrograde.storage.crypto``; the
pure layers only ever see this form (and never decrypt it).
"""

from __future__ import annotations

from typing import TypeGuard

from retrograde.model.jsonvalue import JSON, Raw

SEALED_KEY = "$sealed"
SEALED_PREFIX = "v1."
"""The version of the sealed form: the text after it is base64 of nonce + ciphertext."""


def is_sealed(value: Raw) -> TypeGuard[dict[str, JSON]]:
    """Whether ``value`` is a sealed secret: exactly ``{"$sealed": "v1.…"}``."""
    return (
        type(value) is dict
        and len(value) == 1
        and isinstance(value.get(SEALED_KEY), str)
        and value[SEALED_KEY].startswith(SEALED_PREFIX)
    )


def sealed(text: str) -> dict[str, JSON]:
    """The sealed form of the base64 text ``text`` (nonce + ciphertext)."""
    return {SEALED_KEY: SEALED_PREFIX + text}


def sealed_text(value: dict[str, JSON]) -> str:
    """The base64 text of a sealed value (see :func:`is_sealed`)."""
    text = value[SEALED_KEY]
    assert isinstance(text, str)
    return text[len(SEALED_PREFIX) :]
