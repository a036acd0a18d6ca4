"""Key files and the keyring: finding, creating and checking the key that opens a store's secrets.

A store's data key (:mod:`retrograde.storage.crypto`) is kept in the store
wrapped under the store's *key file*: 32 random bytes, written as one line
of base64, at :func:`retrograde.config.secret_key_file` (one per store id,
in the user's configuration directory; ``RETROGRADE_SECRET_KEY_FILE``
overrides it). Key files are created ``0600`` in directories created
``0700``, on first need: when the first secret value is sealed.

:class:`Keyring` is what verbs hold: it finds the data key once, on first
use, and says (:meth:`Keyring.problem`) when the key file is missing or not
the store's, so that read verbs can still run, showing secrets as ``***``.
"""

from __future__ import annotations

import base64
import binascii
import threading
from pathlib import Path

from retrograde import config
from retrograde.errors import SecretKeyError, StateError
from retrograde.model.keys import StoreKeys
from retrograde.storage.base import Store, Transaction
from retrograde.storage.crypto import KEY_BYTES, SecretBox, new_key, unwrap, wrap
from retrograde.storage.private_files import write_private


def key_file_text(key: bytes) -> bytes:
    """How a key is written in its file: one line of base64."""
    return base64.b64encode(key) + b"\n"


def read_key_file(path: Path) -> bytes:
    """The key in ``path``; :class:`SecretKeyError` when it is missing or not a key file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SecretKeyError(str(path), "is missing") from None
    except OSError as error:
        raise SecretKeyError(str(path), f"cannot be read ({error.strerror})") from None
    if len(data) == KEY_BYTES:
        return data
    try:
        key = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SecretKeyError(str(path), "is not a key file (32 random bytes, base64)")
    return key


def create_key_file(path: Path) -> bytes:
    """The key in ``path``, made (``0600``) with a fresh random key if the file is missing."""
    if path.exists():
        return read_key_file(path)
    key = new_key()
    try:
        write_private(path, key_file_text(key))
    except FileExistsError:  # another process made it first
        return read_key_file(path)
    except OSError as error:
        raise SecretKeyError(str(path), f"cannot be created ({error.strerror})") from None
    return key


class Keyring:
    """The secret box of one open store, found (or made) on first need; thread safe.

    ``key_file`` overrides where the key file is (tests and ``rekey``);
    otherwise it is :func:`retrograde.config.secret_key_file` of the store id.
    """

    def __init__(self, store: Store, *, key_file: Path | None = None) -> None:
        self._store = store
        self._key_file = key_file
        self._box: SecretBox | None = None
        self._keys: StoreKeys | None = None
        self._problem: SecretKeyError | None = None
        self._checked = False
        self._lock = threading.Lock()
        self.raised = False
        """Whether :attr:`problem` was raised to a verb (which then says it in its error)."""

    def key_file(self, keys: StoreKeys) -> Path:
        return self._key_file or config.secret_key_file(keys.store_id)

    def problem(self) -> SecretKeyError | None:
        """Why this store's secrets cannot be decrypted here (None: they can, or there are
        none): the key file is missing or wrong. Checked once."""
        with self._lock:
            self._check()
            return self._problem

    def box(self) -> SecretBox:
        """The box that opens this store's secrets; :class:`SecretKeyError` without its key."""
        with self._lock:
            self._check()
            if self._box is not None:
                return self._box
            if self._problem is not None:
                self.raised = True
                raise self._problem
            with self._store.read() as tx:
                keys = tx.keys.load()
            raise SecretKeyError(str(self.key_file(keys)), "was never made: nothing is sealed")

    def sealing_box(self) -> SecretBox:
        """The box to seal new secrets with: made on the store's first secret (a data key,
        wrapped under the key file, which is created if missing)."""
        with self._lock:
            self._check()
            if self._box is not None:
                return self._box
            if self._problem is not None:
                self.raised = True
                raise self._problem
            self._box = self._create()
            self._keys = None  # it holds a wrapped key now
            return self._box

    def store_keys(self) -> StoreKeys:
        """The store id and its wrapped data key (made if the store has none yet): what a
        worker holding the key file opens this store's secrets with."""
        self.sealing_box()
        with self._lock:
            if self._keys is None:
                with self._store.read() as tx:
                    self._keys = tx.keys.load()
            return self._keys

    def _check(self) -> None:
        if self._checked:
            return
        self._checked = True
        with self._store.read() as tx:
            keys = tx.keys.load()
        if keys.wrapped_key is None:
            return
        self._keys = keys
        try:
            self._box = self._open(keys)
        except SecretKeyError as error:
            self._problem = error

    def _open(self, keys: StoreKeys) -> SecretBox:
        return open_box(keys, self.key_file(keys))

    def _create(self) -> SecretBox:
        with self._store.write() as tx:
            return box_in(tx, self._key_file)


def open_box(keys: StoreKeys, path: Path) -> SecretBox:
    """The box of a store whose data key is wrapped under the key file ``path``."""
    assert keys.wrapped_key is not None
    key = read_key_file(path)
    data_key = unwrap(key, keys.wrapped_key, keys.store_id, key_file=str(path))
    return SecretBox(data_key, key_file=str(path))


def box_in(tx: Transaction, key_file: Path | None = None) -> SecretBox:
    """The box of ``tx``'s store, its data key made (and wrapped under the key file, created
    if missing) in ``tx`` if the store has none yet."""
    keys = tx.keys.load()
    path = key_file or config.secret_key_file(keys.store_id)
    if keys.wrapped_key is not None:  # another process sealed the first secret
        return open_box(keys, path)
    key = create_key_file(path)
    data_key = new_key()
    tx.keys.save(StoreKeys(keys.store_id, wrap(key, data_key, keys.store_id)))
    return SecretBox(data_key, key_file=str(path))


def rewrap_in(tx: Transaction, current: Path, new_key: bytes) -> None:
    """Wrap ``tx``'s store's data key under ``new_key`` instead of the key in ``current``.

    No sealed value and no hash changes: only the 60 bytes of the wrapped key.
    :class:`SecretKeyError` when ``current`` does not open the store's key,
    :class:`StateError` when the store has sealed nothing yet.
    """
    keys = tx.keys.load()
    if keys.wrapped_key is None:
        raise StateError("nothing to rekey: this store has not sealed a secret yet")
    data_key = unwrap(
        read_key_file(current), keys.wrapped_key, keys.store_id, key_file=str(current)
    )
    tx.keys.save(StoreKeys(keys.store_id, wrap(new_key, data_key, keys.store_id)))
