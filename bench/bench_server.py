"""Server benchmarks: the web page's graph view in headless Chromium.

Usage: python bench/bench_server.py [--graph-resources N] [--rounds R]

`graph_page`: a store of N resources (default 10,000: chains of ten connected
services, tagged with one of 40 racks; types without actions, so applying them
costs no handler) is served by a real `retrograde serve`; headless Chromium
(Debian's /usr/bin/chromium through Playwright) signs in once, then opens the
graph view R times in a new page, timing from the navigation to the first
drawn graph (state fetched, grouped by tag, collapsed, laid out), measured
inside the page from its navigation start, plus the redraw after "Expand all"
(the most resources the page draws at once). Target: first render under 3 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
RETROGRADE = Path(sys.executable).parent / "retrograde"
RACKS = 40
CHAIN = 10

TYPES = """types:
  service:
    version: 1
    inputs:
      addr: {type: string}
      upstream: {type: string, default: ""}
resources:
"""


def tagged_stack(n: int) -> str:
    """N services in chains of ten (each takes its address from the one before), racked by tag."""
    lines = [TYPES]
    for index in range(n):
        chain, link = divmod(index, CHAIN)
        tags = f"{{rack: r{chain % RACKS}, tier: t{link % 3}}}"
        if link == 0:
            inputs = f"{{addr: '10.{chain // 250}.{chain % 250}.1'}}"
        else:
            before = f"${{s{chain}-{link - 1}.addr}}"
            inputs = f"{{addr: '{before}', upstream: '{before}'}}"
        lines.append(f"  s{chain}-{link}: {{type: service, tags: {tags}, inputs: {inputs}}}\n")
    return "".join(lines)


def build_store(work: Path, n: int) -> Path:
    """A SQLite store with the N-resource stack applied; its path."""
    import retrograde

    stack = work / "stack.yaml"
    stack.write_text(tagged_stack(n), encoding="utf-8")
    db = work / "graph.db"
    with retrograde.open_context(f"sqlite:///{db}", cwd=work, principal="bench") as ctx:
        retrograde.stage(ctx, stack)
        retrograde.apply(ctx, jobs=8, message="bench")
    return db


def cli(db: Path, *args: str) -> str:
    env = {**os.environ, "RETROGRADE_DB": str(db)}
    done = subprocess.run([str(RETROGRADE), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"retrograde {' '.join(args)}: {done.stderr}")
    return done.stdout


def serve(db: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`retrograde serve` over `db` on a free loopback port, once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (work / "stacks").mkdir(exist_ok=True)
    args = ["serve", "--port", str(port), "--stacks-dir", str(work / "stacks")]
    env = {**os.environ, "RETROGRADE_DB": str(db)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen([str(RETROGRADE), *args], env=env, **quiet)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("retrograde serve did not start")


RENDERED = """() => new Promise((resolve) => {
  const done = () => resolve(performance.now());
  const ready = () => document.querySelector('#graph[data-rendered]');
  if (ready()) return done();
  new MutationObserver((_, observer) => { if (ready()) { observer.disconnect(); done(); } })
    .observe(document.body, {subtree: true, attributes: true, childList: true});
})"""


RESOURCE_NODES = "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').length"


def graph_page(n: int, rounds: int) -> dict[str, float]:
    """First render of the graph view of N resources, and the redraw after expanding every group."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        db = build_store(work, n)
        built = time.perf_counter() - t0
        token = cli(db, "token", "create", "bench", "--role", "reader").strip()
        process, url = serve(db, work)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM)
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(url)
                page.fill("#token", token)
                page.press("#token", "Enter")
                page.wait_for_selector("#nav:not([hidden])")
                page.close()
                firsts, expands = [], []
                for _ in range(rounds):
                    page = context.new_page()
                    page.goto(url + "#/graph", wait_until="commit")
                    firsts.append(page.evaluate(RENDERED) / 1000)
                    drawn = page.evaluate("window.retrogradeGraph.cy.nodes().length")
                    t1 = time.perf_counter()
                    page.click("#expand-all")
                    page.wait_for_selector("#graph[data-rendered='2']")
                    expands.append(time.perf_counter() - t1)
                    expanded = page.evaluate(
                        "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').length"
                    )
                    page.close()
                browser.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    return {
        "resources": n,
        "store_build_s": built,
        "first_render_p50_s": statistics.median(firsts),
        "first_render_max_s": max(firsts),
        "collapsed_nodes": drawn,
        "expand_all_p50_s": statistics.median(expands),
        "expanded_resources_drawn": expanded,
    }


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, load {load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--graph-resources", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    figures = graph_page(args.graph_resources, args.rounds)
    for name, value in figures.items():
        print(f"{name:28} {value:.3f}" if isinstance(value, float) else f"{name:28} {value}")


if __name__ == "__main__":
    main()
