"""The page's own routes over HTTP: a strict Content-Security-Policy on every
answer, JavaScript modules with their media type, nothing served from outside
the shipped assets, and the page kept out of the OpenAPI document."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from retrograde.server.page import ASSETS, CONTENT_SECURITY_POLICY
from tests.server.browser.server_process import Server


def fetch(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET `url` (with `token` as bearer credential, if any): status, headers, body."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_the_page_carries_a_strict_content_security_policy(shared_server: Server) -> None:
    """The page allows scripts, styles and connections from itself only: no inline script."""
    status, headers, body = fetch(shared_server.url)
    assert status == 200
    policy = headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert b"<script>" not in body and b'<script type="module" src=' in body


def test_modules_and_vendored_files_are_served_with_their_types(shared_server: Server) -> None:
    """The app's modules and Cytoscape.js come from the server, as JavaScript, with the policy."""
    for asset in ("js/app.js", "vendor/cytoscape.esm.min.mjs", "vendor/cytoscape-dagre.min.mjs"):
        status, headers, body = fetch(f"{shared_server.url}static/{asset}")
        assert status == 200, asset
        assert headers["content-type"].startswith("text/javascript")
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert len(body) > 100
    assert "vendor/LICENSE-cytoscape.txt" in ASSETS


@pytest.mark.parametrize(
    "path",
    [
        "static/../page.py",
        "static/%2e%2e/page.py",
        "static/..%2fpage.py",
        "static//etc/passwd",
        "static/%2fetc%2fpasswd",
        "static/js/../../page.py",
        "static/nothing.js",
    ],
)
def test_no_file_outside_the_shipped_assets_is_served(shared_server: Server, path: str) -> None:
    """A path that climbs out of the assets, or names no shipped file, gets 404 and no source."""
    status, _, body = fetch(shared_server.url + path)
    assert status == 404
    assert b"import" not in body and b"root:" not in body


def test_the_page_stays_out_of_the_openapi_document(shared_server: Server) -> None:
    """The OpenAPI document lists API routes only: neither the page nor its assets."""
    status, _, body = fetch(f"{shared_server.url}api/openapi.json", shared_server.token)
    assert status == 200
    paths = json.loads(body)["paths"]
    assert paths and all(path.startswith("/api/") for path in paths)
