"""A secret input's default in a type definition: sealed in the stored definition, its chain
entry and the export's ``type`` line; the resources that take it get its plaintext."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import retrograde
from retrograde.commands import history, timetravel, transfer
from retrograde.errors import SecretTamperedError
from retrograde.model.sealed import is_sealed
from retrograde.model.types import ResourceType
from retrograde.storage.sealing import opened_types
from tests import store_calls
from tests.secrets.vault import export_text, raw_store
from tests.stacks import write

DEFAULT = "type-Default-s3cr3t-4242"
OTHER_DEFAULT = "second-Default-pass-7171"


def _stack(default: str, host: str = "db1") -> str:
    """Type ``vault`` whose secret ``password`` has a default; ``vault`` takes it and saves
    it to ``vault.password``."""
    saving = "printf %s {{ inputs.password }} > {{ resource }}.password"
    return f"""
types:
  vault:
    version: 1
    inputs:
      password: {{type: string, secret: true, default: {json.dumps(default)}}}
      host: {{type: string}}
    actions:
      run: {{shell: {json.dumps(saving)}}}
      update: {{shell: {json.dumps(saving)}}}
resources:
  vault: {{type: vault, inputs: {{host: {host}}}}}
"""


def _vault_type(ctx: retrograde.Context) -> ResourceType:
    return store_calls.load_types(ctx.store)[("vault", 1)]


def test_a_secret_default_is_sealed_in_the_store_and_the_export(
    ctx: retrograde.Context, store_url: str
) -> None:
    """Nowhere in clear: types, chain entries, state, export; the handler got it."""
    retrograde.apply(ctx, write(ctx.cwd, "v1.yaml", _stack(DEFAULT)))
    assert (ctx.cwd / "vault.password").read_text() == DEFAULT
    assert DEFAULT.encode() not in raw_store(store_url)
    stored = _vault_type(ctx).inputs["password"].default
    assert is_sealed(stored)
    [entry] = [e for e in store_calls.chain_entries(ctx.store) if e.kind == "type"]
    assert entry.data["inputs"]["password"]["default"] == stored
    transfer.export(ctx, Path("log.jsonl"))
    lines = export_text(ctx.cwd / "log.jsonl")
    assert '"kind":"type"' in lines and DEFAULT not in lines
    assert history.verify(ctx).ok


def test_the_sealed_default_opens_only_as_that_types_default(ctx: retrograde.Context) -> None:
    """Bound to the type and input: opened as a resource's value, it does not decrypt."""
    retrograde.apply(ctx, write(ctx.cwd, "v1.yaml", _stack(DEFAULT)))
    stored = _vault_type(ctx).inputs["password"].default
    box = ctx.keys.box()
    assert box.open_default("vault", "password", stored) == DEFAULT
    with pytest.raises(SecretTamperedError, match=r"vault\.password"):
        box.open("vault", "password", stored)
    with pytest.raises(SecretTamperedError, match=r"type vault\.host"):
        box.open_default("vault", "host", stored)
    with pytest.raises(SecretTamperedError, match=r"type other\.password"):
        box.open_default("other", "password", stored)


def test_restaging_keeps_the_sealed_default_and_a_new_one_is_sealed_anew(
    ctx: retrograde.Context,
) -> None:
    """The same default keeps its ciphertext (no new chain entry); a new one replaces it."""
    retrograde.apply(ctx, write(ctx.cwd, "v1.yaml", _stack(DEFAULT)))
    stored = _vault_type(ctx).inputs["password"].default
    entries = len(store_calls.chain_entries(ctx.store))
    retrograde.apply(ctx, write(ctx.cwd, "host.yaml", _stack(DEFAULT, host="db2")))
    assert _vault_type(ctx).inputs["password"].default == stored
    assert [e.kind for e in store_calls.chain_entries(ctx.store)[entries:]] == [
        "apply-begin",
        "apply-end",
    ]
    retrograde.apply(ctx, write(ctx.cwd, "new.yaml", _stack(OTHER_DEFAULT, host="db2")))
    assert (ctx.cwd / "vault.password").read_text() == OTHER_DEFAULT
    renewed = _vault_type(ctx).inputs["password"].default
    assert is_sealed(renewed) and renewed != stored
    assert ctx.keys.box().open_default("vault", "password", renewed) == OTHER_DEFAULT
    assert history.verify(ctx).ok


def test_state_as_a_stack_leaves_out_a_value_equal_to_the_sealed_default(
    ctx: retrograde.Context,
) -> None:
    """``state --stack`` with the key: the default opens, so a resource that took it says so
    by leaving the input out; the default itself is a secret var, never the value."""
    retrograde.apply(ctx, write(ctx.cwd, "v1.yaml", _stack(DEFAULT)))
    text = timetravel.stack(ctx, timetravel.state_at(ctx, store_calls.head(ctx.store)[0]))
    assert DEFAULT not in text
    document = yaml.safe_load(text)
    assert "password" not in document["resources"]["vault"]["inputs"]
    with ctx.store.read() as tx:
        plain = opened_types(tx.state.types(), ctx.keys.box)
    assert plain[("vault", 1)].inputs["password"].default == DEFAULT
