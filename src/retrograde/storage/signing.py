"""Ed25519 signatures of chain heads: key files, signing, checking, the witness file.

A signature covers one chain point (``rev``, ``seq``, ``hash``: see
:class:`~retrograde.model.chain.ChainPoint`); since every element of the
chain is hashed onto the one before, it vouches for the whole history up to
that point. Signatures are kept beside the chain, not in it, so signing
never changes a hash. The message signed is a fixed prefix and the point's
canonical JSON, so a signature cannot be replayed as anything else.

Key files: ``keygen PATH`` writes the private key to PATH (PEM PKCS#8, mode
0600, never overwritten) and the public key to ``PATH.pub`` (PEM). A key is
named by its *key id*: the first 16 hex digits of SHA-256 over the raw public
key. Nothing here prints or stores the private key anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retrograde.errors import KeyFileError
from retrograde.model.chain import ChainPoint
from retrograde.model.jsonvalue import canonical_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# ``cryptography`` is imported where a key is used, never when a store opens without one,
# so commands that neither sign nor check signatures do not load it.

SIGNING_KEY_ENV = "RETROGRADE_SIGNING_KEY"
WITNESS_ENV = "RETROGRADE_WITNESS"
_PREFIX = b"retrograde chain head\n"
MAX_KEY_FILE = 64 * 1024
"""Bytes read of a key file at most: a key file is a few hundred bytes."""


def message(point: ChainPoint) -> bytes:
    """What is signed for ``point``."""
    return _PREFIX + canonical_bytes(point.to_json())


def key_id(public_raw: bytes) -> str:
    """The printed name of a public key (raw 32 bytes)."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def raw_public(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature of ``point`` by the key ``public_key`` (raw bytes)."""

    point: ChainPoint
    public_key: bytes
    signature: bytes
    signed_at: str

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def valid(self) -> bool:
        """Whether the signature is the key's over the point."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                self.signature, message(self.point)
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, object]:
        return {
            **self.point.to_json(),
            "key_id": self.key_id,
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
            "signed_at": self.signed_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Signature:
        point = ChainPoint(_int(data["rev"]), _int(data["seq"]), _text(data["hash"]))
        return cls(
            point,
            bytes.fromhex(_text(data["public_key"])),
            bytes.fromhex(_text(data["signature"])),
            _text(data["signed_at"]),
        )


class Signer:
    """A private key loaded from its file, signing chain points."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = raw_public(private.public_key())

    def sign(self, point: ChainPoint, signed_at: str) -> Signature:
        return Signature(point, self.public_key, self._private.sign(message(point)), signed_at)


def keygen(path: Path) -> tuple[Path, str]:
    """Write a new key pair to ``path`` (0600) and ``path.pub``; ``(public path, key id)``.

    An existing file at either path is refused (a key is never overwritten).
    """
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise KeyFileError(str(target), "already exists; keygen never overwrites a key")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path.write_bytes(public_pem)
    return public_path, key_id(raw_public(private.public_key()))


def load_signer(path: Path) -> Signer:
    """The private key at ``path``; a file that is not one is a UsageError naming it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read(path, "signing key")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(str(path), "not an unencrypted Ed25519 private key (PEM)") from error
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(str(path), "not an Ed25519 private key")
    return Signer(private)


def load_public(path: Path) -> bytes:
    """The raw public key in the file at ``path`` (PEM, or a private key's file)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read(path, "public key")
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise KeyFileError(str(path), "not an Ed25519 public key (PEM)") from error
        public = private.public_key()
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(str(path), "not an Ed25519 public key")
    return raw_public(public)


def configured_signer() -> Signer | None:
    """The key of ``RETROGRADE_SIGNING_KEY``, None when it is not set."""
    given = os.environ.get(SIGNING_KEY_ENV)
    return load_signer(Path(given).expanduser()) if given else None


def witness_path() -> Path | None:
    """The file of ``RETROGRADE_WITNESS``, None when it is not set."""
    given = os.environ.get(WITNESS_ENV)
    return Path(given).expanduser() if given else None


def append_witness(path: Path, signature: Signature) -> None:
    """Append the signed head to the witness file (one JSON line), flushed to disk."""
    line = json.dumps(signature.to_json(), separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


def read_witness(path: Path) -> list[Signature]:
    """Every signed head of a witness file, oldest first; a bad line is a UsageError."""
    found: list[Signature] = []
    with open(path, encoding="utf-8") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                found.append(Signature.from_json(json.loads(text)))
            except (ValueError, KeyError, TypeError) as error:
                raise KeyFileError(f"{path}:{number}", f"not a witness line ({error!r})") from error
    return found


def _read(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as source:
            data = source.read(MAX_KEY_FILE + 1)
    except OSError as error:
        raise KeyFileError(str(path), f"cannot read the {what} ({error.strerror})") from error
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(str(path), f"too large for a {what}")
    return data


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("rev and seq must be integers")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("hash, keys and signatures must be text")
    return value
