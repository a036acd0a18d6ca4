"""The page's read views in real Chromium over the demo's history: signing in,
the timeline and its filters, a commit's diff, a resource, the graph, and
checkpoints with a rollback preview."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.server.browser.conftest import DEPLOYMENT, sign_in, stray_text
from tests.server.browser.server_process import Server, cli


def log_json(server: Server, *args: str) -> list[dict[str, object]]:
    """The commits `retrograde log --json ARGS` lists on the server's store."""
    commits: list[dict[str, object]] = json.loads(cli(server.db, "log", "--json", *args))["commits"]
    return commits


def test_a_wrong_token_is_refused_and_the_right_one_signs_in(
    page: Page, shared_server: Server
) -> None:
    """A wrong token leaves the sign-in form with a refusal; the right one opens the timeline."""
    page.goto(shared_server.url)
    page.fill("#token", "not-a-token")
    page.press("#token", "Enter")
    expect(page.locator("#sign-in .problem")).to_contain_text("Sign-in refused")
    expect(page.locator("#nav")).to_be_hidden()
    page.fill("#token", shared_server.token)
    page.press("#token", "Enter")
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#applies")).to_be_visible()


def test_a_reload_keeps_the_session_and_signing_out_ends_it(
    page: Page, shared_server: Server
) -> None:
    """A reloaded page gets its session back from the cookie; after Sign out a reload asks again."""
    sign_in(page, shared_server)
    page.reload()
    expect(page.locator("#applies")).to_be_visible()
    expect(page.locator("#who")).to_have_text("web (operator)")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()


def test_the_timeline_shows_every_apply(
    page: Page, shared_server: Server, screenshots: Path
) -> None:
    """The timeline lists the demo's three applies, newest first, with their messages."""
    sign_in(page, shared_server)
    rows = page.locator("#applies tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("renumber node1")
    expect(rows.nth(2)).to_contain_text("initial deployment")
    expect(page.locator("#commits tbody tr")).to_have_count(len(log_json(shared_server)))
    page.screenshot(path=screenshots / "timeline.png", full_page=False)


def test_filtering_the_timeline_by_resource(page: Page, shared_server: Server) -> None:
    """Filtering by a resource shows exactly the commits `log --resource` lists."""
    sign_in(page, shared_server)
    page.fill("#filter-resource", "haproxy")
    page.press("#filter-resource", "Enter")
    expected = [str(commit["rev"]) for commit in log_json(shared_server, "--resource", "haproxy")]
    expect(page.locator("#commits tbody tr")).to_have_count(len(expected))
    assert page.locator("#commits tbody tr td:nth-child(3)").all_inner_texts() == ["haproxy"] * len(
        expected
    )
    assert page.locator("#commits .rev").all_inner_texts() == expected
    assert "resource=haproxy" in page.url


def test_filtering_by_apply_and_principal_combine(page: Page, shared_server: Server) -> None:
    """Filters combine as in `log`: apply 2 by principal `web` is empty, apply 2 alone is not."""
    sign_in(page, shared_server)
    page.goto(f"{shared_server.url}#/timeline?apply=2&principal=web")
    expect(page.locator("#no-commits")).to_be_visible()
    expected = log_json(shared_server, "--apply", "2")
    page.goto(f"{shared_server.url}#/timeline?apply=2")
    expect(page.locator("#commits tbody tr")).to_have_count(len(expected))


def test_a_bad_filter_is_named_and_the_form_stays(page: Page, shared_server: Server) -> None:
    """An unreadable `since` gets the log's one-line refusal naming it; the filters stay usable."""
    sign_in(page, shared_server)
    page.goto(f"{shared_server.url}#/timeline?since=last%20tuesday")
    refusal = page.locator("section .problem")
    expect(refusal).to_contain_text("since")
    expect(page.locator("#filter-since")).to_have_value("last tuesday")
    page.fill("#filter-since", "")
    page.press("#filter-since", "Enter")
    expect(page.locator("#commits tbody tr").first).to_be_visible()


def test_a_commit_shows_its_forward_and_reverse_diff(
    page: Page, shared_server: Server, screenshots: Path
) -> None:
    """Opening node1's renumbering commit shows ip 10.20.0.2 -> 10.20.0.12, and the reverse."""
    sign_in(page, shared_server)
    page.fill("#filter-resource", "node1")
    page.press("#filter-resource", "Enter")
    expect(page.locator("#commits tbody tr")).to_have_count(2)
    page.locator("#commits .rev").first.click()
    forward = page.locator("#forward-diff tbody tr")
    expect(forward).to_have_count(1)
    assert forward.first.locator("td").all_inner_texts() == ["ip", "10.20.0.2", "10.20.0.12"]
    reverse = page.locator("#reverse-diff tbody tr").first.locator("td")
    assert reverse.all_inner_texts() == ["ip", "10.20.0.12", "10.20.0.2"]
    assert stray_text(page) == []
    page.screenshot(path=screenshots / "commit.png")


def test_a_resource_shows_its_history_and_blame(page: Page, shared_server: Server) -> None:
    """haproxy's view lists its commits and names the commit that set each input."""
    sign_in(page, shared_server)
    page.goto(f"{shared_server.url}#/resource/haproxy")
    history = log_json(shared_server, "--resource", "haproxy")
    expect(page.locator("#history tbody tr")).to_have_count(len(history))
    blame = json.loads(cli(shared_server.db, "blame", "haproxy", "--json"))["inputs"]
    expect(page.locator("#blame tbody tr")).to_have_count(len(blame))
    backends = page.locator("#blame tbody tr", has_text="backends").locator("td")
    assert backends.nth(2).inner_text() == str(blame["backends"]["rev"])


def test_the_graph_draws_every_resource_of_committed_state(
    page: Page, shared_server: Server, screenshots: Path
) -> None:
    """The graph holds one node per committed resource and one edge per producer-consumer pair."""
    sign_in(page, shared_server)
    page.click("nav >> text=Graph")
    page.wait_for_selector("#graph[data-rendered]")
    state = json.loads(cli(shared_server.db, "state", "--json"))["resources"]
    ids = page.evaluate(
        "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').map((node) => node.id())"
    )
    assert sorted(ids) == sorted(state)
    pairs = {
        (slot.rsplit(".", 1)[0], name)
        for name, resource in state.items()
        for source in resource["connections"].values()
        for slot in (source if isinstance(source, list) else [source])
        if isinstance(slot, str)
    }
    edges = page.evaluate(
        "window.retrogradeGraph.cy.edges().map((edge) => [edge.source().id(), edge.target().id()])"
    )
    assert {tuple(edge) for edge in edges} == pairs
    page.screenshot(path=screenshots / "graph.png")


def test_grouping_the_graph_by_tag_collapses_and_expands(
    page: Page, shared_server: Server, screenshots: Path
) -> None:
    """Grouped by `node`, collapsing a group hides its members; expanding shows them again."""
    sign_in(page, shared_server)
    page.goto(f"{shared_server.url}#/graph")
    page.wait_for_selector("#graph[data-rendered]")
    page.select_option("#graph-group", "node")
    count = "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').length"
    total = page.evaluate(count)
    page.click("#collapse-all")
    assert page.evaluate(count) == 0
    assert page.evaluate("window.retrogradeGraph.cy.nodes('.group').length") == 2
    node1 = page.locator("#graph-groups button", has_text="node=node1")
    expect(node1).to_have_attribute("aria-expanded", "false")
    node1.focus()
    page.keyboard.press("Enter")
    expect(node1).to_have_attribute("aria-expanded", "true")
    members = page.evaluate(
        "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]').map((node) => node.id())"
    )
    state = json.loads(cli(shared_server.db, "state", "--json"))["resources"]
    on_node1 = [name for name, resource in state.items() if resource["tags"].get("node") == "node1"]
    assert sorted(members) == sorted(on_node1)
    page.click("#expand-all")
    assert page.evaluate(count) == total
    page.screenshot(path=screenshots / "graph-grouped.png")


def test_a_checkpoint_previews_its_rollback_without_staging(page: Page, server: Server) -> None:
    """Previewing the rollback to the first commit lists removals and stages nothing."""
    cli(server.db, "checkpoint", "start", "--at", "1")
    sign_in(page, server)
    page.goto(f"{server.url}#/checkpoints")
    expect(page.locator("#checkpoints tbody tr")).to_have_count(2)
    page.locator("#checkpoints tbody tr", has_text="start").locator("button.preview").click()
    changes = page.locator("#rollback-changes")
    expect(changes).to_contain_text("remove")
    expect(page.locator("#rollback-plan li").first).to_be_visible()
    assert json.loads(cli(server.db, "diff", "--json"))["changes"] == {}


def test_a_reader_sees_the_staged_diff_but_no_way_to_change_the_store(
    page: Page, server: Server
) -> None:
    """A reader token sees the staged diff and why it cannot stage or apply, and no way to."""
    cli(server.db, "stage", "stack-v2.yaml", cwd=DEPLOYMENT)
    reader = cli(server.db, "token", "create", "auditor", "--role", "reader").strip()
    page.goto(server.url)
    page.fill("#token", reader)
    page.press("#token", "Enter")
    expect(page.locator("#who")).to_have_text("auditor (reader)")
    page.click("nav >> text=Staged")
    expect(page.locator("#staged-changes")).to_contain_text("keystone2")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#stage-form")).to_have_count(0)
    expect(page.locator("#apply")).to_be_disabled()
    expect(page.locator("#discard")).to_have_count(0)


def test_the_page_is_usable_from_the_keyboard(page: Page, shared_server: Server) -> None:
    """Sign in, move between views and filter with the keyboard only; focus is visible."""
    page.goto(shared_server.url)
    expect(page.locator("#token")).to_be_focused()
    page.keyboard.type(shared_server.token)
    page.keyboard.press("Enter")
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#applies")).to_be_visible()
    expect(page.locator("#main")).to_be_focused()
    graph_link = page.locator("nav a[data-view=graph]")
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        if graph_link.evaluate("(link) => link === document.activeElement"):
            break
    expect(graph_link).to_be_focused()
    outline = graph_link.evaluate("(link) => getComputedStyle(link).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    page.wait_for_selector("#graph[data-rendered]")
    page.focus("#graph-filter")
    page.keyboard.type("keystone")
    page.keyboard.press("Enter")
    expect(page.locator("#graph-status")).to_contain_text("1 of")
    page.keyboard.press("Escape")
    expect(page.locator("#graph-filter")).to_have_value("")
