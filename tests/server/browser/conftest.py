"""Fixtures of the browser tests: the demo's store, a real server over a copy of
it, and a page in real headless Chromium (Debian's `/usr/bin/chromium`, driven by
Playwright; no browser is ever downloaded).

The demo store is made once per test process by running the demo's three
stacks through the CLI (deploy, move keystone, renumber node1) and naming a
checkpoint; every test gets its own copy and its own `retrograde serve`, so a
test that applies changes nothing another test sees. Every page records its
script errors and Content-Security-Policy violations, and a test fails if
there were any.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.server.browser.server_process import DEMO_KEY_ENV, Server, cli, start_server

CHROMIUM = Path("/usr/bin/chromium")
DEPLOYMENT = Path(__file__).resolve().parents[3] / "examples" / "deployment"
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class DemoStore:
    """The demo's store (SQLite file) with an operator token for it."""

    db: Path
    token: str
    stacks: Path


def copy_deployment(target: Path) -> Path:
    """A clean copy of examples/deployment (without anything a run left in out/)."""
    shutil.copytree(DEPLOYMENT, target, ignore=shutil.ignore_patterns("out", "*.db", "__pycache__"))
    return target


def build_demo_store(root: Path) -> DemoStore:
    """The demo's history in `root`: three applies of stack-v1..v3, a checkpoint, a token."""
    stacks = copy_deployment(root / "deployment")
    db = root / "demo.db"
    steps = [
        ("stack-v1.yaml", "initial deployment"),
        ("stack-v2.yaml", "move keystone to node2"),
        ("stack-v3.yaml", "renumber node1"),
    ]
    for stack, message in steps:
        cli(db, "stage", stack, cwd=stacks)
        cli(db, "apply", "--yes", "-m", message, cwd=stacks)
    cli(db, "checkpoint", "renumbered", "-m", "after renumbering node1", cwd=stacks)
    token = cli(db, "token", "create", "web", "--role", "operator").strip()
    (root / "token").write_text(token)
    return DemoStore(db, token, stacks)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    """The demo store, built once for the whole run (the xdist workers share it)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    root = shared / "browser-demo"
    os.environ[DEMO_KEY_ENV] = str(shared / "browser-demo.key")
    with (shared / "browser-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "token").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            return build_demo_store(root)
    return DemoStore(root / "demo.db", (root / "token").read_text(), root / "deployment")


def serve_copy(demo_store: DemoStore, workdir: Path) -> Iterator[Server]:
    """A `retrograde serve` process over a copy of the demo store in `workdir`, stopped after."""
    db = workdir / "store.db"
    shutil.copyfile(demo_store.db, db)
    running = start_server(db, demo_store.token, workdir)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def server(demo_store: DemoStore, tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own, for a test that changes the store."""
    yield from serve_copy(demo_store, tmp_path)


@pytest.fixture(scope="module")
def shared_server(
    demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a module's tests that only read (starting one costs seconds)."""
    yield from serve_copy(demo_store, tmp_path_factory.mktemp("shared-server"))


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    """Playwright's driver for the whole run."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Headless Chromium from the system package, never a downloaded build."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    launched = playwright_session.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    try:
        yield launched
    finally:
        launched.close()


@dataclass
class Problems:
    """Script errors and CSP violations a page reported."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith("Failed to load resource"):
            return  # an API answer such as a 401 the page shows; not a script problem
        if message.type == "error" or "Content Security Policy" in text:
            self.messages.append(f"console {message.type}: {text}")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save their screenshots."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page at 1280x800; the test fails if it logged a script error or CSP violation."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    problems = Problems()
    opened.on("console", problems.console)
    opened.on("pageerror", lambda error: problems.messages.append(f"page error: {error}"))
    try:
        yield opened
    finally:
        context.close()
    assert problems.messages == []


def stray_text(page: Page) -> list[str]:
    """Text written straight into the view (a `null` the page meant to leave out, say)."""
    found: list[str] = page.evaluate(
        "[...document.querySelector('#main > .view').childNodes]"
        ".filter((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim())"
        ".map((node) => node.textContent)"
    )
    return found


def sign_in(page: Page, server: Server) -> None:
    """Open the page and sign in with the server's token, as a person would."""
    page.goto(server.url)
    page.fill("#token", server.token)
    page.press("#token", "Enter")
    page.wait_for_selector("#nav:not([hidden])")
