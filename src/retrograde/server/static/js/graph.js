// The interactive graph of committed state (#/graph) or of the staged plan
// (#/graph/plan), drawn with Cytoscape.js and a layered (dagre) layout.
// Large graphs stay usable by filtering (name, type, `key=value` tag) and by
// grouping on a tag: each group is one node while collapsed (the default above
// COLLAPSE_AT resources) and a compound node holding its members when expanded.
// Everything the drawing offers is also reachable from the keyboard: the
// controls and the list of groups beside it are ordinary focusable elements.

import cytoscape from "../vendor/cytoscape.esm.min.mjs";
import dagre from "../vendor/cytoscape-dagre.min.mjs";
import { get } from "./api.js";
import { append, h, replace } from "./dom.js";
import { fromPlan, fromState, groupKeys, groupOf, initialView, layoutElements } from "./graph_model.js";

cytoscape.use(dagre);

/** Above this many drawn nodes the layered layout is too slow to wait for: a grid instead. */
const LAYERED_UP_TO = 800;
/** A small graph is not blown up past this zoom to fill the canvas. */
const MAX_FIT_ZOOM = 1.8;

const STYLE = [
  { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 3,
    "background-color": "data(colour)", width: 18, height: 18, color: "#1d2330" } },
  { selector: "node.group", style: { "background-color": "#dfe6f2", shape: "round-rectangle", "border-width": 1,
    "border-color": "#5b7fb5", "text-valign": "top", "font-weight": "bold" } },
  { selector: "node.group.collapsed", style: { width: 60, height: 28, "text-valign": "center", "text-margin-y": 0 } },
  { selector: "node.run", style: { "border-width": 3, "border-color": "#2e7d32" } },
  { selector: "node.update", style: { "border-width": 3, "border-color": "#b26a00" } },
  { selector: "node.remove", style: { "border-width": 3, "border-color": "#c62828", shape: "diamond" } },
  { selector: "node:selected", style: { "border-width": 3, "border-color": "#111" } },
  { selector: "edge", style: { width: 1.2, "line-color": "#9aa5b8", "target-arrow-color": "#9aa5b8",
    "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9,
    color: "#5a6372", "text-rotation": "autorotate", "text-background-color": "#fbfcfe", "text-background-opacity": 1 } },
];

async function loadGraph(source) {
  const state = await get("state");
  if (source !== "plan") return fromState(state);
  return fromPlan(await get("plan"), state);
}

function layoutOptions(drawn) {
  if (drawn > LAYERED_UP_TO) return { name: "grid", animate: false, avoidOverlap: true };
  return { name: "dagre", rankDir: "LR", nodeSep: 20, rankSep: 90, animate: false, fit: true, padding: 30 };
}

export async function render(main, route) {
  const source = route.args[0] === "plan" ? "plan" : "state";
  const graph = await loadGraph(source);
  const view = initialView(graph, route.params.get("filter") || "");
  const focus = route.params.get("focus");
  const ui = controls(graph, view);
  const canvas = h("div", { id: "graph", class: "graph", role: "img",
    "aria-label": source === "plan" ? "Graph of the staged plan" : "Graph of committed state" });
  append(main, 
    h("h2", {}, source === "plan" ? "Graph of the staged plan" : "Graph of committed state"),
    h("p", { class: "help" },
      source === "plan" ? h("a", { href: "#/graph" }, "Show committed state")
        : h("a", { href: "#/graph/plan" }, "Show the staged plan"),
      " · Click a resource to open it; click a group to expand or collapse it."),
    h("div", { class: "graph-layout" }, ui.panel, canvas),
  );
  const cy = cytoscape({ container: canvas, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3,
    textureOnViewport: true, hideEdgesOnViewport: true, pixelRatio: graph.nodes.length > 1000 ? 1 : "auto" });
  window.retrogradeGraph = { cy, source, view };
  const draw = () => {
    const started = performance.now();
    const result = layoutElements(graph, view);
    cy.batch(() => {
      cy.elements().remove();
      cy.add(result.elements);
    });
    cy.layout(layoutOptions(result.drawn)).run();
    if (cy.zoom() > MAX_FIT_ZOOM) {
      cy.zoom(MAX_FIT_ZOOM);
      cy.center();
    }
    ui.update(result, redraw);
    canvas.dataset.rendered = String((Number(canvas.dataset.rendered) || 0) + 1);
    window.retrogradeGraph.lastDrawMs = performance.now() - started;
  };
  const redraw = () => draw();
  cy.on("tap", "node", (event) => {
    const node = event.target;
    if (node.data("kind") === "group") {
      toggle(view, node.data("key"));
      draw();
    } else {
      location.hash = `#/resource/${encodeURIComponent(node.id())}`;
    }
  });
  ui.bind(redraw);
  if (focus) focusOn(graph, view, focus, draw, cy);
  else draw();
}

function toggle(view, key) {
  if (view.collapsed.has(key)) view.collapsed.delete(key);
  else view.collapsed.add(key);
}

function focusOn(graph, view, name, draw, cy) {
  const node = graph.nodes.find((candidate) => candidate.id === name);
  if (node && view.groupBy) view.collapsed.delete(groupOf(node, view.groupBy));
  draw();
  const element = cy.getElementById(name);
  if (element.nonempty()) {
    element.select();
    cy.animate({ center: { eles: element }, zoom: 1.2 }, { duration: 0 });
  }
}

function controls(graph, view) {
  const filter = h("input", { id: "graph-filter", type: "search", value: view.filter, autocomplete: "off",
    placeholder: "name, type or key=value" });
  const groupBy = h("select", { id: "graph-group" },
    h("option", { value: "" }, "no grouping"),
    groupKeys(graph).map((key) => h("option", { value: key, selected: key === view.groupBy }, key)));
  const collapseAll = h("button", { type: "button", id: "collapse-all" }, "Collapse all");
  const expandAll = h("button", { type: "button", id: "expand-all" }, "Expand all");
  const status = h("p", { id: "graph-status", "aria-live": "polite" });
  const groupList = h("ul", { id: "graph-groups", class: "groups" });
  const panel = h("form", { class: "graph-panel", role: "search" },
    h("label", { for: "graph-filter" }, "Filter"), filter,
    h("label", { for: "graph-group" }, "Group by"), groupBy,
    h("div", { class: "buttons" }, collapseAll, expandAll),
    status, groupList);
  let groups = [];
  const update = (result, redraw) => {
    groups = result.groups;
    status.textContent = `${result.shown} of ${result.total} resources shown, ${result.drawn} drawn`
      + (result.drawn < result.shown && !groups.length ? " (filter to see the rest)" : "");
    replace(groupList, groups.map((group) => h("li", {},
      h("button", { type: "button", class: "group-toggle", "aria-expanded": String(!group.collapsed),
        onclick: () => { toggle(view, group.key); redraw(); } },
        `${group.collapsed ? "▸" : "▾"} ${view.groupBy}=${group.key} (${group.count})`))));
  };
  const bind = (redraw) => {
    panel.addEventListener("submit", (event) => event.preventDefault());
    let timer = null;
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { view.filter = filter.value; redraw(); }, 250);
    });
    filter.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { clearTimeout(timer); view.filter = filter.value; redraw(); }
      if (event.key === "Escape") { filter.value = ""; view.filter = ""; redraw(); }
    });
    groupBy.addEventListener("change", () => {
      view.groupBy = groupBy.value;
      const start = initialView(graph, view.filter);
      view.collapsed = start.groupBy ? new Set(graph.nodes.map((node) => groupOf(node, view.groupBy))) : new Set();
      redraw();
    });
    collapseAll.addEventListener("click", () => { groups.forEach((g) => view.collapsed.add(g.key)); redraw(); });
    expandAll.addEventListener("click", () => { view.collapsed.clear(); redraw(); });
  };
  return { panel, update, bind };
}
