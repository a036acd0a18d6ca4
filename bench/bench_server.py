"""Server benchmark: ``retrograde serve`` answering over HTTP on a long history.

Usage: python bench/bench_server.py [--commits N] [--resources M] [--clients C]
       [--requests R] [--dir DIR] [--reuse] [--only log|state] [--no-access-log]

Builds two embedded stores (SQLite, WAL, synchronous=FULL): the generated
deployment history of N commits (default 1,000,000; ``history_data.write_export``
then ``retrograde.import_``, as bench_history.py does) and a state of M
resources (default 10,000; ``bench_timetravel.build_history``, one commit each).
Then, against a real ``retrograde serve`` process per store on a free
loopback port, with a reader token:

- ``GET /api/log`` (first page, 50 commits) from C concurrent clients (default
  8), each with its own keep-alive connection, R requests each (default 200):
  p50, p99 and max latency, and throughput (target: p99 under 25 ms);
- ``GET /api/state`` (every resource, JSON) from one client: the first answer
  (rendered from the store), then 20 more (p50, p99: answered from the cache
  while the head stays), and the answer's size (target: under 300 ms).

Latency is wall time per request seen by the client, connection reuse
included; the server and the clients share the machine, so the server's own
CPU time (user + system, from ``/proc``) is reported per request beside it.
``--only log`` or ``--only state`` builds (or reuses) and measures one store;
``--no-access-log`` serves the log without uvicorn's line per request.

``--graph`` measures the web page's graph view instead (``graph_page``): a
store of G resources (``--graph-resources``, default 10,000: chains of ten
connected services, each tagged with one of 40 racks and 3 tiers; types
without actions, so no handler runs) served by ``retrograde serve``; headless
Chromium (Debian's /usr/bin/chromium through Playwright) signs in once, then
opens ``#/graph`` in a new page ``--rounds`` times (default 5), timing inside
the page from the navigation's start to the first drawn graph (modules loaded,
session resumed, state fetched, grouped by tag, collapsed, laid out; target
under 3 s), then the redraw after "Expand all" (the most the page draws).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_timetravel import build_history  # noqa: E402
from history_data import write_export  # noqa: E402

import retrograde  # noqa: E402
from retrograde.commands import tokens  # noqa: E402
from retrograde.model.tokens import Role  # noqa: E402
from retrograde.storage.connect import open_store  # noqa: E402

LOG_TARGET_MS = 25.0
STATE_TARGET_MS = 300.0
CLI = [sys.executable, "-m", "retrograde.cli.main"]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def build_log_store(directory: Path, commits: int) -> str:
    url = sqlite_url(directory / "history.db")
    export = directory / "history.jsonl"
    started = time.perf_counter()
    write_export(export, commits)
    with retrograde.open_context(url, cwd=directory) as ctx:
        retrograde.import_(ctx, export)
    export.unlink()
    print(f"built {commits:,} commits in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def build_state_store(directory: Path, resources: int) -> str:
    url = sqlite_url(directory / "state.db")
    store = open_store(url)
    try:
        build_history(store, resources, resources)
    finally:
        store.close()
    return url


def reader_token(url: str, directory: Path) -> str:
    with retrograde.open_context(url, cwd=directory, principal="bench") as ctx:
        existing = {t.name for t in tokens.list_tokens(ctx)}
        if "bench" in existing:
            tokens.revoke_token(ctx, "bench")
        return tokens.create_token(ctx, "bench", Role.READER)[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A ``retrograde serve`` process on a free port, for the ``with`` block."""

    def __init__(self, url: str, directory: Path, *options: str) -> None:
        self.port = free_port()
        env = {**os.environ, "RETROGRADE_PRINCIPAL": "bench"}
        args = [*CLI, "--db", url, "serve", "--port", str(self.port), *options]
        self.process = subprocess.Popen(
            args, cwd=directory, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/api/state", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("serve did not come up")

    def cpu_ms(self) -> float:
        """The server process's CPU time so far (user + system), in milliseconds."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *_exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def hammer(
    base: str, path: str, token: str, clients: int, requests: int
) -> tuple[list[float], float]:
    """``requests`` GETs of ``path`` from each of ``clients`` threads; latencies (ms), wall s."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            http.get(path).raise_for_status()  # connection up, warm
            barrier.wait()
            for _ in range(requests):
                started = time.perf_counter()
                http.get(path).raise_for_status()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1_000_000)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--only", choices=("log", "state"), help="build and measure one store")
    parser.add_argument("--no-access-log", action="store_true", help="serve with --no-access-log")
    parser.add_argument("--graph", action="store_true", help="the web page's graph view only")
    parser.add_argument("--graph-resources", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.graph:
        report_graph(graph_page(args.graph_resources, args.rounds))
        return
    directory = args.dir or Path(tempfile.mkdtemp(prefix="bench-server-"))
    directory.mkdir(parents=True, exist_ok=True)
    if args.only != "state":
        log_url = sqlite_url(directory / "history.db")
        if not args.reuse:
            build_log_store(directory, args.commits)
        options = ("--no-access-log",) if args.no_access_log else ()
        report_log(args, measure_log(log_url, directory, args.clients, args.requests, options))
    if args.only != "log":
        state_url = sqlite_url(directory / "state.db")
        if not args.reuse:
            build_state_store(directory, args.resources)
        report_state(args, measure_state(state_url, directory))
    print(f"\nload average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def measure_log(
    url: str, directory: Path, clients: int, requests: int, options: tuple[str, ...] = ()
) -> dict[str, float]:
    """The first page of the log asked by ``clients`` clients at once, ``requests`` each."""
    token = reader_token(url, directory)
    with Server(url, directory, *options) as server:
        cpu = server.cpu_ms()
        latencies, wall = hammer(server.base, "/api/log", token, clients, requests)
        cpu = server.cpu_ms() - cpu
    return {
        "requests": len(latencies),
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "per_s": len(latencies) / wall,
        "server_cpu": cpu / len(latencies),
    }


def measure_state(url: str, directory: Path) -> dict[str, float]:
    """The state asked once (rendered from the store) and 20 times more (from the cache)."""
    token = reader_token(url, directory)
    with Server(url, directory) as server:
        auth = {"Authorization": f"Bearer {token}"}
        cpu, started = server.cpu_ms(), time.perf_counter()
        size = len(httpx.get(f"{server.base}/api/state", headers=auth, timeout=60).content)
        cold_ms, cold_cpu = (time.perf_counter() - started) * 1000, server.cpu_ms() - cpu
        cpu = server.cpu_ms()
        state_ms, _ = hammer(server.base, "/api/state", token, 1, 20)
        cached_cpu = (server.cpu_ms() - cpu) / (len(state_ms) + 1)  # with the warm-up request
    return {
        "cold": cold_ms,
        "cold_cpu": cold_cpu,
        "requests": len(state_ms),
        "p50": statistics.median(state_ms),
        "p99": percentile(state_ms, 0.99),
        "cached_cpu": cached_cpu,
        "bytes": size,
    }


def report_log(args: argparse.Namespace, f: dict[str, float]) -> None:
    print(f"\nGET /api/log (first page of 50) on {args.commits:,} commits, {args.clients} clients")
    print("| requests | p50 | p99 | max | requests/s | server CPU/request | target p99 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {f['requests']:,.0f} | {f['p50']:.1f} ms | {f['p99']:.1f} ms | {f['max']:.1f} ms "
        f"| {f['per_s']:,.0f} | {f['server_cpu']:.2f} ms | {LOG_TARGET_MS:.0f} ms |"
    )


def report_state(args: argparse.Namespace, f: dict[str, float]) -> None:
    print(f"\nGET /api/state of {args.resources:,} resources, one client")
    print(
        "| first (rendered) | its server CPU | requests after | p50 | p99 | server CPU/request "
        "| bytes | target |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {f['cold']:.0f} ms | {f['cold_cpu']:.0f} ms | {f['requests']:.0f} | {f['p50']:.0f} ms "
        f"| {f['p99']:.0f} ms | {f['cached_cpu']:.1f} ms | {f['bytes']:,.0f} "
        f"| {STATE_TARGET_MS:.0f} ms |"
    )


# The web page's graph view in headless Chromium.

CHROMIUM = "/usr/bin/chromium"
GRAPH_TARGET_S = 3.0
RACKS = 40
CHAIN = 10

GRAPH_TYPES = """types:
  service:
    version: 1
    inputs:
      addr: {type: string}
      upstream: {type: string, default: ""}
resources:
"""

RENDERED = """() => new Promise((resolve) => {
  const done = () => resolve(performance.now());
  const ready = () => document.querySelector('#graph[data-rendered]');
  if (ready()) return done();
  new MutationObserver((_, observer) => { if (ready()) { observer.disconnect(); done(); } })
    .observe(document.body, {subtree: true, attributes: true, childList: true});
})"""

RESOURCE_NODES = "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').length"


def tagged_stack(n: int) -> str:
    """N services in chains of ten (each takes its address from the one before), racked by tag."""
    lines = [GRAPH_TYPES]
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


def build_graph_store(directory: Path, n: int) -> str:
    """A store with the N-resource tagged stack applied; its URL."""
    stack = directory / "graph-stack.yaml"
    stack.write_text(tagged_stack(n), encoding="utf-8")
    url = sqlite_url(directory / "graph.db")
    with retrograde.open_context(url, cwd=directory, principal="bench") as ctx:
        retrograde.stage(ctx, stack)
        retrograde.apply(ctx, jobs=8, message="bench")
    return url


def graph_page(n: int, rounds: int) -> dict[str, float]:
    """First render of the graph view of N resources, and the redraw after expanding every group."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        url = build_graph_store(directory, n)
        built = time.perf_counter() - started
        token = reader_token(url, directory)
        firsts: list[float] = []
        expands: list[float] = []
        with Server(url, directory) as server, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{server.base}/")
            page.fill("#token", token)
            page.press("#token", "Enter")
            page.wait_for_selector("#nav:not([hidden])")
            page.close()
            for _ in range(rounds):
                page = context.new_page()
                page.goto(f"{server.base}/#/graph", wait_until="commit")
                firsts.append(page.evaluate(RENDERED) / 1000)
                collapsed = page.evaluate("window.retrogradeGraph.cy.nodes().length")
                clicked = time.perf_counter()
                page.click("#expand-all")
                page.wait_for_selector("#graph[data-rendered='2']")
                expands.append(time.perf_counter() - clicked)
                expanded = page.evaluate(RESOURCE_NODES)
                page.close()
            browser.close()
    return {
        "resources": n,
        "store_build_s": built,
        "first_render_p50_s": statistics.median(firsts),
        "first_render_max_s": max(firsts),
        "collapsed_nodes": collapsed,
        "expand_all_p50_s": statistics.median(expands),
        "expanded_resources_drawn": expanded,
    }


def report_graph(figures: dict[str, float]) -> None:
    print(f"\nGraph page of {figures['resources']:,} resources, headless Chromium at 1280x800")
    print("| first render p50 | worst | nodes drawn | Expand all p50 | resources drawn | target |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {figures['first_render_p50_s']:.2f} s | {figures['first_render_max_s']:.2f} s "
        f"| {figures['collapsed_nodes']:.0f} | {figures['expand_all_p50_s']:.1f} s "
        f"| {figures['expanded_resources_drawn']:.0f} | {GRAPH_TARGET_S:.0f} s |"
    )
    print(f"(store built in {figures['store_build_s']:.1f} s; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
