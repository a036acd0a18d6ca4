"""Secret values on a remote executor's wire: sealed by the coordinator, opened by the worker.

A request names its secret inputs (``secret_inputs``); every value they hold
in ``inputs``, ``previous`` and both sides of ``diff`` travels in the sealed
form it has at rest (:mod:`retrograde.model.sealed`): AES-GCM under the
store's data key, bound to the resource and input. The coordinator
(:class:`WireSecrets`) reuses the very ciphertext the value was read from the
store with (a staged or committed value: nothing is encrypted again) and
seals only what exists in clear alone (a resource being adopted). A value
the request already holds sealed is sent as it is, and stays so.

With the values, a request carries ``sealed``: the store id, the store's
data key as the store keeps it (wrapped under the key file, so useless
without it), which values the worker opens, and whether it masks them. The
request's ``secrets`` (the texts to mask) are not sent; the worker computes
them from what it opened. A worker opens the values with the key file
(``retrograde worker --key-file``, else ``RETROGRADE_SECRET_KEY_FILE``, else
the store id's default path): :class:`WorkerKeys`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from retrograde import config
from retrograde.errors import HandlerError
from retrograde.model.apply import ActionRequest
from retrograde.model.change import Diff
from retrograde.model.jsonvalue import JSON
from retrograde.model.keys import StoreKeys
from retrograde.model.masking import secret_values
from retrograde.model.sealed import is_sealed
from retrograde.storage.crypto import SecretBox
from retrograde.storage.keys import Keyring, open_box
from retrograde.storage.sealing import Opener, Sealer

Slot = tuple[str, ...]
"""Where a value sits in a request's context: ``(side, input)`` for ``inputs`` and
``previous``, ``("diff", input, end)`` for a side of the diff."""


def _no_secret_names(_type: str, _version: int) -> frozenset[str]:
    return frozenset()


class WireSecrets:
    """The coordinator's side: seals requests' secret values under its store's data key.

    ``opener`` is the one that revealed the changes the requests come from, so
    that their values keep the ciphertext they were read with. Thread safe.
    """

    def __init__(self, keyring: Keyring, opener: Opener | None = None) -> None:
        self._keyring = keyring
        self._sealer = Sealer(opener or Opener(keyring.box), keyring.sealing_box, _no_secret_names)
        self._lock = threading.Lock()

    def sealed(self, request: ActionRequest) -> dict[str, Any]:
        """``request`` as it goes on the wire: see the module docstring."""
        names = frozenset(request.get("secret_inputs") or ())
        context = request["context"]
        resource = str(context.get("resource") or "")
        slots = [s for s in _slots(context, names) if _clear(_get(context, s))]
        if not slots:
            if request.get("secrets"):
                raise HandlerError("the request's secret values name no secret input")
            return dict(request)
        with self._lock:  # the sealer's memory of ciphertexts is shared
            values = [self._sealer.value(resource, s[1], _get(context, s)) for s in slots]
            keys = self._keyring.store_keys()
        wired = _copied(context, slots)
        for slot, value in zip(slots, values, strict=True):
            _set(wired, slot, value)
        sealed = {
            "store": keys.store_id,
            "key": keys.wrapped_key,
            "open": [list(slot) for slot in slots],
            "mask": bool(request.get("secrets")),
        }
        return {**request, "context": wired, "secrets": [], "sealed": sealed}


def refuse_clear(request: ActionRequest) -> None:
    """For an executor without the store's key: HandlerError when ``request`` has a secret
    value it would send in clear."""
    names = frozenset(request.get("secret_inputs") or ())
    context = request["context"]
    if request.get("secrets") or any(_clear(_get(context, s)) for s in _slots(context, names)):
        raise HandlerError("secret values cannot be sent: the executor was given no store key")


class WorkerKeys:
    """The worker's side: opens what :meth:`WireSecrets.sealed` sealed, with its key file.

    ``key_file`` is the worker's ``--key-file``; without it, each store's
    :func:`~retrograde.config.secret_key_file`. Boxes are kept per store and
    wrapped key (a ``rekey`` sends the new one). Thread safe.
    """

    def __init__(self, key_file: Path | None = None) -> None:
        self._key_file = key_file
        self._boxes: dict[tuple[str, str, Path], SecretBox] = {}
        self._lock = threading.Lock()

    def opened(self, request: ActionRequest) -> ActionRequest:
        """``request`` with its sealed values opened and its ``secrets`` to mask computed;
        :class:`~retrograde.errors.SecretKeyError` when the key file cannot open them."""
        sealed = cast(dict[str, Any] | None, cast(dict[str, Any], request).get("sealed"))
        if not sealed:
            return request
        slots = [tuple(str(part) for part in slot) for slot in sealed["open"]]
        box = self._box(str(sealed["store"]), str(sealed["key"]))
        context = request["context"]
        resource = str(context.get("resource") or "")
        local = _copied(context, slots)
        for slot in slots:
            _set(local, slot, box.open(resource, slot[1], _get(context, slot)))
        names = frozenset(slot[1] for slot in slots)
        secrets: list[str] = []
        if sealed.get("mask"):
            diff = cast(Diff, local.get("diff") or {})
            secrets = secret_values(names, _side(local, "inputs"), _side(local, "previous"), diff)
        opened: dict[str, Any] = {**request, "context": local, "secrets": secrets}
        opened.pop("sealed", None)
        return cast(ActionRequest, opened)

    def key_file(self, store_id: str) -> Path:
        return self._key_file or config.secret_key_file(store_id)

    def _box(self, store_id: str, wrapped: str) -> SecretBox:
        path = self.key_file(store_id)
        with self._lock:
            found = self._boxes.get((store_id, wrapped, path))
            if found is None:
                found = open_box(StoreKeys(store_id, wrapped), path)
                self._boxes[(store_id, wrapped, path)] = found
            return found


def _slots(context: dict[str, JSON], names: frozenset[str]) -> Iterator[Slot]:
    """Every place in ``context`` a value of one of ``names`` sits."""
    for side in ("inputs", "previous"):
        values = context.get(side)
        if isinstance(values, dict):
            yield from ((side, name) for name in sorted(names & values.keys()))
    diff = context.get("diff")
    if isinstance(diff, dict):
        for name in sorted(names & diff.keys()):
            entry = diff[name]
            if isinstance(entry, dict):
                yield from (("diff", name, end) for end in ("from", "to") if end in entry)


def _clear(value: JSON) -> bool:
    """Whether ``value`` holds something in clear (``null`` holds nothing)."""
    return value is not None and not is_sealed(value)


def _get(context: dict[str, JSON], slot: Slot) -> JSON:
    value: JSON = context
    for part in slot:
        assert isinstance(value, dict)
        value = value[part]
    return value


def _set(context: dict[str, JSON], slot: Slot, value: JSON) -> None:
    holder: JSON = context
    for part in slot[:-1]:
        assert isinstance(holder, dict)
        holder = holder[part]
    assert isinstance(holder, dict)
    holder[slot[-1]] = value


def _copied(context: dict[str, JSON], slots: list[Slot]) -> dict[str, JSON]:
    """``context`` with every dict on the way to ``slots`` copied (the rest shared)."""
    copy = dict(context)
    done: set[Slot] = set()
    for slot in slots:
        holder: dict[str, JSON] = copy
        for depth in range(1, len(slot)):
            part = slot[depth - 1]
            inner = holder[part]
            assert isinstance(inner, dict)
            if slot[:depth] not in done:
                done.add(slot[:depth])
                holder[part] = inner = dict(inner)
            holder = inner
    return copy


def _side(context: dict[str, JSON], side: str) -> dict[str, JSON] | None:
    values = context.get(side)
    return values if isinstance(values, dict) else None
