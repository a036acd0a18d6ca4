"""A real ``retrograde serve``: it starts, serves, and SIGTERM leaves a running apply
interrupted; it refuses to listen beyond loopback in clear; it honours a proxy's headers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backends import sqlite_url
from tests.durability import processes
from tests.durability.test_frozen_holder import HOLDER
from tests.server.conftest import stack_text
from tests.server.serving import make_token, serving


@pytest.mark.slow
def test_sigterm_during_an_apply_leaves_it_interrupted_for_resume(
    store_url: str, tmp_path: Path
) -> None:
    """The first wave finishes and is committed, nothing else starts, the apply is
    interrupted; the CLI resumes it under the same id."""
    token = make_token(store_url, tmp_path, "ops", "operator")
    auth = {"Authorization": f"Bearer {token}"}
    marker = tmp_path / "started"
    text = stack_text(
        f"touch {marker}; sleep 1; " + 'echo "{{ resource }}" >> ' + str(tmp_path / "ran")
    )
    with serving(store_url, tmp_path) as (base, process):
        staged = httpx.post(f"{base}/api/stage", json={"stack.yaml": text}, headers=auth)
        assert staged.status_code == 200, staged.text
        digest = httpx.get(f"{base}/api/plan", headers=auth).json()["plan_digest"]
        started = httpx.post(f"{base}/api/apply", json={"plan_digest": digest}, headers=auth)
        assert started.status_code == 202, started.text
        apply_id = started.json()["apply_id"]
        processes.wait_for(marker, process)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=processes.WAIT_SECONDS)
    applies = processes.run_json(store_url, tmp_path, "applies")["applies"]
    assert [(a["id"], a["status"], a["principal"]) for a in applies] == [
        (apply_id, "interrupted", "ops")
    ]
    ran = (tmp_path / "ran").read_text().split()
    assert sorted(ran) == ["node1", "node2"], err
    resumed = processes.run_json(store_url, tmp_path, "resume")
    assert resumed["apply_id"] == apply_id and resumed["status"] == "succeeded"


@pytest.mark.slow
def test_events_stream_live_over_the_network(store_url: str, tmp_path: Path) -> None:
    """A client following the events of a running apply gets each action as it ends."""
    token = make_token(store_url, tmp_path, "ops", "operator")
    auth = {"Authorization": f"Bearer {token}"}
    with serving(store_url, tmp_path) as (base, _):
        text = stack_text("sleep 0.2")
        httpx.post(f"{base}/api/stage", json={"stack.yaml": text}, headers=auth)
        digest = httpx.get(f"{base}/api/plan", headers=auth).json()["plan_digest"]
        started = httpx.post(f"{base}/api/apply", json={"plan_digest": digest}, headers=auth)
        seen: list[tuple[float, str]] = []
        url = f"{base}{started.json()['events']}"
        with httpx.stream("GET", url, headers=auth, timeout=30) as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    seen.append((time.monotonic(), line[7:]))
    names = [name for _, name in seen]
    assert names[-1] == "report" and names.count("action_finished") == 5
    first_done = next(t for t, name in seen if name == "action_finished")
    assert seen[-1][0] - first_done > 0.3  # arrived while the apply ran, not all at the end


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])
def test_a_non_loopback_host_without_tls_is_refused(
    store_url: str, tmp_path: Path, host: str
) -> None:
    """serve --host H (not loopback) without --cert/--key or --insecure exits 2, one line."""
    done = processes.run(store_url, tmp_path, "serve", "--host", host, "--port", "1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "without TLS" in lines[0] and "--insecure" in lines[0]


def test_tls_needs_both_files(store_url: str, tmp_path: Path) -> None:
    """--cert without --key is refused before anything listens."""
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    done = processes.run(store_url, tmp_path, "serve", "--cert", str(cert))
    assert done.returncode == 2 and "--cert and --key" in done.stderr


@pytest.mark.slow
def test_behind_a_proxy_root_path_and_forwarded_proto_are_honoured(
    store_url: str, tmp_path: Path
) -> None:
    """With --root-path /retro (the proxy serves the app under /retro and strips it) the
    document's server is /retro and the session cookie is scoped to it; X-Forwarded-Proto:
    https from the proxy makes the cookie Secure."""
    token = make_token(store_url, tmp_path, "page", "reader")
    auth = {"Authorization": f"Bearer {token}"}
    with serving(store_url, tmp_path, "--root-path", "/retro/") as (base, _):
        doc = httpx.get(f"{base}/api/openapi.json", headers=auth)
        assert doc.status_code == 200, doc.text
        assert doc.json()["servers"] == [{"url": "/retro"}]
        assert httpx.get(f"{base}/api/state", headers=auth).json()["rev"] == 0
        proxied = httpx.post(
            f"{base}/api/session",
            headers={**auth, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
        cookie = proxied.headers["set-cookie"]
        assert "Path=/retro/" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        direct = httpx.post(f"{base}/api/session", headers=auth)
        assert "Secure" not in direct.headers["set-cookie"]


def test_token_verbs_on_the_store(store_url: str, tmp_path: Path) -> None:
    """create prints only the token (notes on stderr), --json its name, role and token; list
    never shows a token; revoke removes it; a bad role or duration is a usage error."""
    secret = make_token(store_url, tmp_path, "ci", "operator")
    made = processes.run_json(
        store_url, tmp_path, "token", "create", "bot", "--role", "admin", "--expires", "30d"
    )
    assert made["name"] == "bot" and made["role"] == "admin" and made["token"].startswith("rg_")
    listed = processes.run(store_url, tmp_path, "token", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)["tokens"]] == ["bot", "ci"]
    assert secret not in listed.stdout and made["token"] not in listed.stdout
    table = processes.run(store_url, tmp_path, "token", "list")
    assert "ci" in table.stdout and secret not in table.stdout
    assert processes.run(store_url, tmp_path, "token", "revoke", "ci").returncode == 0
    again = processes.run(store_url, tmp_path, "token", "revoke", "ci")
    assert again.returncode == 1 and "unknown token 'ci'" in again.stderr
    bad = processes.run(store_url, tmp_path, "token", "create", "x", "--role", "root")
    assert bad.returncode == 2
    never = processes.run(
        store_url, tmp_path, "token", "create", "x", "--role", "reader", "--expires", "soon"
    )
    assert never.returncode == 2 and "30d" in never.stderr
    taken = processes.run(store_url, tmp_path, "token", "create", "bot", "--role", "reader")
    assert taken.returncode == 1 and "already exists" in taken.stderr


@pytest.mark.slow
def test_a_frozen_writer_makes_a_server_write_409_within_its_short_timeout(
    tmp_path: Path,
) -> None:
    """On SQLite the server waits 5 s (not 30) for another process's transaction, then
    answers 409 naming the holder; reads still answer at once."""
    store_url = sqlite_url(tmp_path)
    token = make_token(store_url, tmp_path, "ops", "operator")
    auth = {"Authorization": f"Bearer {token}"}
    marker = tmp_path / "holding"
    with serving(store_url, tmp_path) as (base, _):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, store_url, str(marker)], env=processes.environment()
        )
        try:
            processes.wait_for(marker, holder)  # type: ignore[arg-type]
            started = time.monotonic()
            assert httpx.get(f"{base}/api/state", headers=auth, timeout=30).status_code == 200
            answer = httpx.post(
                f"{base}/api/checkpoints", headers=auth, json={"name": "x"}, timeout=30
            )
            waited = time.monotonic() - started
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["kind"] == "store_busy_error" and error["principal"] == "frozen-op"
    assert 4 < waited < 20


@pytest.mark.parametrize("flag", ["--access-log", "--no-access-log"])
def test_the_access_log_is_a_line_per_request_unless_turned_off(
    store_url: str, tmp_path: Path, flag: str
) -> None:
    """A served request is one ``GET /api/log`` line on standard output, unless
    ``--no-access-log``; the server's own messages (standard error) stay."""
    token = make_token(store_url, tmp_path, "rita", "reader")
    with serving(store_url, tmp_path, flag) as (base, process):
        answer = httpx.get(f"{base}/api/log", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=processes.WAIT_SECONDS)
    assert ("GET /api/log HTTP/1.1" in out) is (flag == "--access-log"), out
    assert "Uvicorn running on" in err
