"""``rekey``: wrap the store's data key under a new key file (docs/security.md).

Secret values are sealed under the store's data key, which the store keeps
wrapped under its key file; rotating the key file rewraps that one key, so
no sealed value and no commit hash changes and ``verify`` needs no key
before or after. The old key file is kept as a backup beside the new one
(``<name>.old-<time>``), unless ``--new-key FILE`` names where the new key
is (created ``0600`` if missing), in which case the old file is left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.errors import StateError
from retrograde.storage.crypto import new_key
from retrograde.storage.keys import (
    create_key_file,
    key_file_text,
    read_key_file,
    rewrap_in,
)
from retrograde.storage.private_files import write_private


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """Where the store's key file is now, and where the old one was kept (if it was)."""

    key_file: str
    backup: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"key_file": self.key_file, "backup": self.backup}


def rekey(ctx: Context, new_key_file: Path | None = None) -> Rekeyed:
    """Wrap the store's data key under a new key: ``new_key_file`` (relative to ``ctx.cwd``;
    made if missing), else a fresh key written in place of the old key file, kept as a backup.

    The old key file must open the store's key (:class:`SecretKeyError`); a store that
    has sealed nothing has no key to rotate (:class:`StateError`).
    """
    with exclusive(ctx, "rekey"):
        with ctx.store.read() as tx:
            keys = tx.keys.load()
        if keys.wrapped_key is None:
            raise StateError("nothing to rekey: this store has not sealed a secret yet")
        current = ctx.keys.key_file(keys)
        read_key_file(current)  # missing or unreadable: say so before anything is made
        if new_key_file is not None:
            target = ctx.cwd / new_key_file
            key = create_key_file(target)
            with ctx.store.write() as tx:
                rewrap_in(tx, current, key)
            return Rekeyed(str(target), None)
        return _replace_in_place(ctx, current)


def _replace_in_place(ctx: Context, current: Path) -> Rekeyed:
    """A fresh key at ``current``'s path, the old file kept beside it.

    The new key is written (``<name>.new``) before the store switches to it
    and moved into place after, so at no moment is the only copy of the key
    the store needs missing: if the process dies in between, ``<name>.new``
    is that key.
    """
    key = new_key()
    fresh = current.with_name(current.name + ".new")
    fresh.unlink(missing_ok=True)
    write_private(fresh, key_file_text(key))
    with ctx.store.write() as tx:
        rewrap_in(tx, current, key)
    stamp = utc_now().replace(":", "").replace("-", "").split(".")[0]
    backup = current.with_name(f"{current.name}.old-{stamp}")
    os.replace(current, backup)
    os.replace(fresh, current)
    return Rekeyed(str(current), str(backup))
