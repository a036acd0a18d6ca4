"""Staging, planning and applying from the page in real Chromium: upload a stack,
read the plan, confirm, follow the live progress to the report, find the new
commits; and hostile markup in an input value shown as text, never run."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.server.browser.conftest import DEPLOYMENT, sign_in, stray_text
from tests.server.browser.server_process import Server, cli

HOSTILE = '<img src=x onerror="window.__injected = true">'
SECRET = "hunter2-not-for-eyes"

HOSTILE_STACK = f"""
types:
  note:
    version: 1
    inputs:
      text: {{type: string}}
      password: {{type: string, secret: true}}
    actions:
      run: {{shell: "true"}}
      update: {{shell: "true"}}
      remove: {{shell: "true"}}
resources:
  hostile:
    type: note
    inputs:
      text: {json.dumps(HOSTILE)}
      password: {json.dumps(SECRET)}
"""


def stage_from_page(
    page: Page, files: list[Path] | None = None, folder: Path | None = None, stack: str = ""
) -> None:
    """Stage through the page's form: the chosen files or folder, and the stack file's name."""
    page.goto(page.url.split("#")[0] + "#/staged")
    if files:
        page.set_input_files("#stack-files", [str(path) for path in files])
    if folder:
        page.set_input_files("#stack-folder", str(folder))
    if stack:
        page.select_option("#stack-name", stack)
    page.click("#stage-form button[type=submit]")


def test_stage_plan_confirm_and_watch_the_apply_to_its_end(
    page: Page, server: Server, tmp_path: Path, screenshots: Path
) -> None:
    """Staging stack-v2 from the page: its plan, confirm, progress to the end, the new commits."""
    head = json.loads(cli(server.db, "log", "--json", "--limit", "1"))["commits"][0]["rev"]
    sign_in(page, server)
    stage_from_page(page, folder=DEPLOYMENT, stack="stack-v2.yaml")
    plan = page.locator("#plan li")
    expect(plan.first).to_be_visible()
    actions = json.loads(cli(server.db, "plan", "--json"))["actions"]
    expect(plan).to_have_count(len(actions))
    assert [item.split()[1] for item in plan.all_inner_texts()] == [a["resource"] for a in actions]
    assert stray_text(page) == []
    page.screenshot(path=screenshots / "staged.png")
    page.click("text=Show the plan as a graph")
    page.wait_for_selector("#graph[data-rendered]")
    drawn = page.evaluate(
        "window.retrogradeGraph.cy.nodes('[kind = \"resource\"]')"
        ".map((node) => [node.id(), node.data('action')])"
    )
    assert sorted(drawn) == sorted([a["resource"], a["action"]] for a in actions)
    page.go_back()
    page.click("#apply")
    dialog = page.locator("#confirm-apply")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.click("#apply")
    page.fill("#apply-message", "back to the v2 addresses")
    page.click("#confirm")
    expect(page.locator("#apply-report")).to_contain_text("succeeded", timeout=60_000)
    expect(page.locator("#apply-progress")).to_have_attribute("value", str(len(actions)))
    finished = page.locator("#apply-events .event-action_finished")
    expect(finished).to_have_count(len(actions))
    page.screenshot(path=screenshots / "apply-progress.png")
    commits = page.locator("#apply-report a[href^='#/commit/']")
    expect(commits).to_have_count(len(actions))
    expected = [str(rev) for rev in range(head + 1, head + 1 + len(actions))]
    assert sorted(commits.all_inner_texts(), key=int) == expected
    page.click("nav >> text=Timeline")
    newest = page.locator("#commits tbody tr").first
    expect(newest).to_contain_text("back to the v2 addresses")
    expect(newest).to_contain_text("web")
    assert json.loads(cli(server.db, "diff", "--json"))["changes"] == {}


def test_hostile_markup_in_a_value_shows_literally_and_runs_nothing(
    page: Page, server: Server, tmp_path: Path
) -> None:
    """An input `<img src=x onerror=...>` shows as text in the diff and commit; nothing runs."""
    stack = tmp_path / "hostile" / "stack.yaml"
    stack.parent.mkdir()
    stack.write_text(HOSTILE_STACK)
    sign_in(page, server)
    stage_from_page(page, files=[stack])
    staged = page.locator("#staged-changes")
    expect(staged).to_contain_text(HOSTILE)
    assert staged.locator("img").count() == 0
    expect(staged).to_contain_text("***")
    assert SECRET not in page.content()
    page.click("#apply")
    page.click("#confirm")
    expect(page.locator("#apply-report")).to_contain_text("succeeded", timeout=60_000)
    page.locator("#apply-report a[href^='#/commit/']").first.click()
    forward = page.locator("#forward-diff")
    expect(forward).to_contain_text(HOSTILE)
    assert forward.locator("img").count() == 0
    assert page.locator("img").count() == 0
    assert SECRET not in page.content()
    assert page.evaluate("window.__injected") is None
