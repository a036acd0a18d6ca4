"""Sealing a request's secret values for a remote executor's wire, and opening them again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrograde import config
from retrograde.errors import HandlerError, SecretKeyError
from retrograde.executors.wire_secrets import WireSecrets, WorkerKeys, refuse_clear
from retrograde.model.apply import ActionRequest
from retrograde.model.sealed import is_sealed
from retrograde.storage.keys import Keyring
from retrograde.storage.sealing import Opener
from retrograde.storage.sql.store import SqlStore
from tests.action_requests import build_request


def _request(tmp_path: Path) -> ActionRequest:
    """An update of ``web``: its secret ``password`` from ``old-pw`` to ``new-pw``."""
    request = build_request(
        "shell",
        "true",
        tmp_path,
        inputs={"password": "new-pw", "user": "admin"},
        previous={"password": "old-pw", "user": "admin"},
        secrets=["new-pw", "old-pw"],
    )
    request["secret_inputs"] = ["password"]
    return request


def test_values_go_sealed_reusing_their_stored_ciphertext_and_open_as_they_were(
    store: SqlStore, tmp_path: Path
) -> None:
    keyring = Keyring(store)
    stored = keyring.sealing_box().seal("web", "password", "new-pw")
    opener = Opener(keyring.box)
    assert opener.value("web", "password", stored) == "new-pw"  # as a change is revealed
    request = _request(tmp_path)

    wired = WireSecrets(keyring, opener).sealed(request)

    text = json.dumps(wired)
    assert "new-pw" not in text and "old-pw" not in text
    assert wired["secrets"] == [] and wired["context"]["inputs"]["user"] == "admin"
    assert wired["context"]["inputs"]["password"] == stored  # not encrypted again
    assert wired["context"]["diff"]["password"]["to"] == stored
    assert is_sealed(wired["context"]["previous"]["password"])  # only in clear: sealed now
    assert request["context"]["inputs"]["password"] == "new-pw"  # the request is left as is
    with store.read() as tx:
        key_file = config.secret_key_file(tx.keys.load().store_id)
    assert WorkerKeys(key_file).opened(wired) == request  # the masked texts too


def test_a_value_sealed_already_stays_sealed_and_a_read_masks_nothing(
    store: SqlStore, tmp_path: Path
) -> None:
    """A read's request (no texts to mask) whose committed value is sealed: sent, and
    given to the handler, as it is; its value in clear is opened but not masked."""
    keyring = Keyring(store)
    stored = keyring.sealing_box().seal("web", "password", "pw")
    request = build_request(
        "shell", "true", tmp_path, inputs={"password": stored, "token": "t0k"}, action="read"
    )
    request["secret_inputs"] = ["password", "token"]

    wired = WireSecrets(keyring).sealed(request)

    assert wired["context"]["inputs"]["password"] == stored and "t0k" not in json.dumps(wired)
    assert WorkerKeys().opened(wired) == request


def test_a_worker_without_the_key_file_cannot_open_them(store: SqlStore, tmp_path: Path) -> None:
    wired = WireSecrets(Keyring(store)).sealed(_request(tmp_path))
    missing = tmp_path / "nowhere.key"

    with pytest.raises(SecretKeyError) as raised:
        WorkerKeys(missing).opened(wired)

    assert raised.value.key_file == str(missing) and raised.value.problem == "is missing"


def test_without_a_store_key_a_request_with_secret_values_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HandlerError, match="no store key"):
        refuse_clear(_request(tmp_path))
    refuse_clear(build_request("shell", "true", tmp_path, inputs={"user": "admin"}))
