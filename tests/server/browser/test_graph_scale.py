"""The graph view's model at 10,000 resources, run in real Chromium from the
module the page ships: grouped by the most used tag and collapsed by default,
filtered by tag, expanded a group at a time, and never drawing more than its cap."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.server.browser.server_process import Server

SCALE = """async ({count, filter, expand}) => {
  const model = await import('./static/js/graph_model.js');
  const state = {resources: {}};
  for (let index = 0; index < count; index++) {
    const chain = Math.floor(index / 10), link = index % 10;
    state.resources[`s${chain}-${link}`] = {type: link ? 'service' : 'head',
      tags: {rack: `r${chain % 40}`, tier: `t${link % 3}`},
      connections: link ? {addr: `s${chain}-${link - 1}.addr`, all: [null, `s${chain}-0.addr`]}
                        : {}};
  }
  const graph = model.fromState(state);
  const view = model.initialView(graph, filter);
  for (const key of expand) view.collapsed.delete(key);
  if (expand.includes('*')) view.collapsed.clear();
  const drawn = model.layoutElements(graph, view);
  const kinds = {};
  for (const element of drawn.elements) {
    const kind = element.group === 'edges' ? 'edge' : element.data.kind;
    kinds[kind] = (kinds[kind] || 0) + 1;
  }
  return {groupBy: view.groupBy, kinds, shown: drawn.shown, drawn: drawn.drawn,
          groups: drawn.groups.length, cap: model.MAX_DRAWN, edges: graph.edges.length};
}"""


def scale(page: Page, server: Server, filter: str = "", expand: tuple[str, ...] = ()) -> Any:
    """The model's drawing of a 10,000-resource state with this filter and these groups expanded."""
    page.goto(server.url)
    return page.evaluate(SCALE, {"count": 10_000, "filter": filter, "expand": list(expand)})


def test_ten_thousand_resources_open_as_collapsed_groups(page: Page, shared_server: Server) -> None:
    """10,000 resources open grouped by the most used tag, every group collapsed: 40 nodes."""
    result = scale(page, shared_server)
    assert result["groupBy"] == "rack"
    assert result["kinds"] == {"group": 40}
    assert result["drawn"] == 0 and result["shown"] == 10_000
    assert result["edges"] == 9000 + 9000


def test_expanding_one_group_draws_its_members_and_their_edges(
    page: Page, shared_server: Server
) -> None:
    """Expanding rack r3 draws its 250 resources and one edge per connected pair among them."""
    result = scale(page, shared_server, expand=("r3",))
    assert result["kinds"]["resource"] == 250
    assert result["kinds"]["group"] == 40
    # Per chain of ten: link N takes from N-1 (9 pairs) and from the head (8 more pairs).
    assert result["kinds"]["edge"] == 25 * (9 + 8)


def test_a_tag_filter_narrows_before_grouping(page: Page, shared_server: Server) -> None:
    """`rack=r3 tier=t0` keeps 100 resources, few enough to draw ungrouped."""
    result = scale(page, shared_server, filter="rack=r3 tier=t0")
    assert result["shown"] == 100
    assert result["groupBy"] == ""
    assert result["kinds"]["resource"] == 100


def test_expanding_everything_stops_at_the_drawing_cap(page: Page, shared_server: Server) -> None:
    """Expand all at 10,000 draws at most the cap, and says how many are shown."""
    result = scale(page, shared_server, expand=("*",))
    assert result["drawn"] == result["cap"] < result["shown"] == 10_000
