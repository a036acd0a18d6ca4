"""Encrypting secret values at rest: AES-GCM under a data key, the data key under a key file.

Envelope encryption. Each store has one random 256-bit *data key*; every
secret value is sealed under it (:class:`SecretBox`) with a random 96-bit
nonce, and with its resource and input name as associated data, so a
ciphertext moved to another input (or another resource) fails to decrypt
instead of yielding a value. A secret input's default in a type definition
is sealed the same way, bound to the type and input names (in a context of
its own, so it can never pass for a resource's value, nor one for it). The
data key itself is stored *wrapped* (AES-GCM under the key file's 256-bit
key, bound to the store id), so rotating the key file rewraps 60 bytes and
changes no stored ciphertext and no hash. Nothing here is hand-made:
``cryptography``'s AESGCM does all of it.

``cryptography`` is imported when a box is first made, so verbs on stores
without secrets never load it.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

from retrograde.errors import SecretKeyError, SecretTamperedError
from retrograde.model.jsonvalue import JSON, canonical_bytes
from retrograde.model.sealed import is_sealed, sealed, sealed_text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
_VALUE_CONTEXT = "retrograde-secret-v1"
_DEFAULT_CONTEXT = "retrograde-secret-default-v1"
_WRAP_CONTEXT = b"retrograde-data-key-v1\x00"


def new_key() -> bytes:
    """A fresh random 256-bit key (a data key or a key file's key)."""
    return os.urandom(KEY_BYTES)


def _aead(key: bytes) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def wrap(key_file_key: bytes, data_key: bytes, store_id: str) -> str:
    """``data_key`` encrypted under ``key_file_key`` for store ``store_id``, as base64 text."""
    nonce = os.urandom(NONCE_BYTES)
    body = _aead(key_file_key).encrypt(nonce, data_key, _WRAP_CONTEXT + store_id.encode())
    return base64.b64encode(nonce + body).decode("ascii")


def unwrap(key_file_key: bytes, wrapped: str, store_id: str, *, key_file: str) -> bytes:
    """The data key ``wrapped`` holds; :class:`SecretKeyError` when ``key_file_key`` is not
    the key it was wrapped under (a wrong key file)."""
    from cryptography.exceptions import InvalidTag

    try:
        raw = base64.b64decode(wrapped, validate=True)
        key = _aead(key_file_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _WRAP_CONTEXT + store_id.encode()
        )
    except (InvalidTag, binascii.Error, ValueError):
        raise SecretKeyError(key_file, "is not this store's key") from None
    return key


class SecretBox:
    """Seals and opens secret values under one store's data key; immutable, thread safe.

    ``key_file`` is only named in errors.
    """

    __slots__ = ("_aead", "key_file")

    def __init__(self, data_key: bytes, *, key_file: str) -> None:
        self._aead = _aead(data_key)
        self.key_file = key_file

    def seal(self, resource: str, input: str, value: JSON) -> dict[str, JSON]:
        """``value`` (any JSON) sealed for ``resource.input``, with a fresh nonce."""
        return self._seal(_binding(resource, input), value)

    def open(self, resource: str, input: str, value: JSON) -> JSON:
        """The plaintext of a sealed ``value`` of ``resource.input`` (any other value as is).

        A ciphertext that does not authenticate for this input (moved from
        another input, edited, sealed under another data key) is
        :class:`SecretTamperedError`, never a wrong value.
        """
        return self._open(_binding(resource, input), value, resource, input)

    def seal_default(self, type_name: str, input: str, value: JSON) -> dict[str, JSON]:
        """``value`` sealed as the default of secret input ``input`` of type ``type_name``
        (bound to both, and never valid as a resource's value)."""
        return self._seal(_default_binding(type_name, input), value)

    def open_default(self, type_name: str, input: str, value: JSON) -> JSON:
        """The plaintext of a sealed default (see :meth:`seal_default`, :meth:`open`)."""
        return self._open(_default_binding(type_name, input), value, f"type {type_name}", input)

    def _seal(self, binding: bytes, value: JSON) -> dict[str, JSON]:
        nonce = os.urandom(NONCE_BYTES)
        body = self._aead.encrypt(nonce, canonical_bytes(value), binding)
        return sealed(base64.b64encode(nonce + body).decode("ascii"))

    def _open(self, binding: bytes, value: JSON, owner: str, input: str) -> JSON:
        if not is_sealed(value):
            return value
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(sealed_text(value), validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], binding)
            return _loads(plain)
        except (InvalidTag, binascii.Error, ValueError):
            raise SecretTamperedError(self.key_file, owner, input) from None


def _binding(resource: str, input: str) -> bytes:
    """The associated data of a value: which resource input it belongs to."""
    return canonical_bytes([_VALUE_CONTEXT, resource, input])


def _default_binding(type_name: str, input: str) -> bytes:
    """The associated data of a type's secret default: which type input it belongs to."""
    return canonical_bytes([_DEFAULT_CONTEXT, type_name, input])


def _loads(plain: bytes) -> JSON:
    import json

    value: JSON = json.loads(plain.decode("utf-8"))
    return value
