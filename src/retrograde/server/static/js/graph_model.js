// The graph as data, before any drawing: resources (or a plan's actions) and
// their connections, filtered by text and grouped by a tag (or by type), with
// each group either collapsed into one node or expanded into a compound node
// holding its members. Kept free of the drawing library so that it can be
// reasoned about (and timed) on its own.

/** Above this many shown resources, groups start collapsed. */
export const COLLAPSE_AT = 150;
/** At most this many resource nodes are drawn at once; filtering narrows the rest. */
export const MAX_DRAWN = 1500;

const UNTAGGED = "(none)";

/** Nodes and edges from `state --json` ({resources: {name: {type, tags, connections}}}). */
export function fromState(state) {
  const nodes = [];
  const edges = [];
  for (const [id, resource] of Object.entries(state.resources || {})) {
    nodes.push({ id, type: resource.type, tags: resource.tags || {} });
    for (const [input, source] of Object.entries(resource.connections || {})) {
      for (const slot of [source].flat()) {
        if (typeof slot !== "string") continue;
        const producer = slot.slice(0, slot.lastIndexOf("."));
        if (producer && producer !== id) edges.push({ from: producer, to: id, input });
      }
    }
  }
  return { nodes, edges };
}

/** Nodes and edges of the staged plan (`plan --json`), typed and tagged from state where known. */
export function fromPlan(plan, state) {
  const known = state.resources || {};
  const nodes = plan.actions.map((action) => ({
    id: action.resource,
    action: action.action,
    type: known[action.resource]?.type ?? "",
    tags: known[action.resource]?.tags ?? {},
  }));
  const edges = plan.actions.flatMap((action) =>
    action.after.map((before) => ({ from: before, to: action.resource, input: null })));
  return { nodes, edges };
}

/** The keys a graph can be grouped by: "type" and every tag key, most used first. */
export function groupKeys(graph) {
  const counts = new Map();
  for (const node of graph.nodes) {
    for (const key of Object.keys(node.tags)) counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...[...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key), "type"];
}

/** Whether `node` matches the filter text: part of its name or type, or a `key=value` tag. */
export function matches(node, filter) {
  const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => {
    const equals = word.indexOf("=");
    if (equals > 0) {
      const value = node.tags[word.slice(0, equals)];
      return value !== undefined && String(value).toLowerCase() === word.slice(equals + 1);
    }
    return node.id.toLowerCase().includes(word) || String(node.type).toLowerCase().includes(word)
      || (node.action || "").includes(word);
  });
}

export function groupOf(node, groupBy) {
  if (!groupBy) return null;
  const value = groupBy === "type" ? node.type : node.tags[groupBy];
  return value === undefined || value === null || value === "" ? UNTAGGED : String(value);
}

const GROUP = "group\u241f";
const groupId = (key) => `${GROUP}${key}`;

function groupNodes(shown, groupBy) {
  const groups = new Map();
  for (const node of shown) {
    const key = groupOf(node, groupBy);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(node);
  }
  return new Map([...groups.entries()].sort((a, b) => a[0].localeCompare(b[0])));
}

/**
 * The drawing's elements for `view` = {filter, groupBy, collapsed: Set of group
 * keys}: {elements, groups: [{key, count, collapsed}], shown, drawn, total}.
 */
export function layoutElements(graph, view) {
  const shown = graph.nodes.filter((node) => matches(node, view.filter || ""));
  const groups = view.groupBy ? groupNodes(shown, view.groupBy) : new Map([[null, shown]]);
  const elements = [];
  const endpoint = new Map();
  let drawn = 0;
  for (const [key, members] of groups) {
    const collapsed = key !== null && view.collapsed.has(key);
    if (key !== null) {
      const label = `${view.groupBy}=${key} (${members.length})`;
      elements.push({ group: "nodes", data: { id: groupId(key), kind: "group", key, label, count: members.length },
        classes: collapsed ? "group collapsed" : "group expanded" });
    }
    for (const node of members) {
      if (collapsed) {
        endpoint.set(node.id, groupId(key));
        continue;
      }
      if (drawn >= MAX_DRAWN) continue;
      drawn += 1;
      endpoint.set(node.id, node.id);
      elements.push({ group: "nodes", data: { id: node.id, kind: "resource", label: node.id, type: node.type,
        action: node.action || "", colour: colourOf(node.type), parent: key === null ? undefined : groupId(key) },
        classes: node.action ? `resource ${node.action}` : "resource" });
    }
  }
  elements.push(...edgeElements(graph.edges, endpoint));
  const groupList = ungrouped(groups) ? [] : [...groups.entries()].map(([key, members]) =>
    ({ key, count: members.length, collapsed: view.collapsed.has(key) }));
  return { elements, groups: groupList, shown: shown.length, drawn, total: graph.nodes.length };
}

function ungrouped(groups) {
  return groups.size === 1 && groups.has(null);
}

function edgeElements(edges, endpoint) {
  const merged = new Map();
  for (const edge of edges) {
    const source = endpoint.get(edge.from);
    const target = endpoint.get(edge.to);
    if (!source || !target || source === target) continue;
    const id = `${source}\u2192${target}`;
    const entry = merged.get(id);
    if (entry) {
      entry.data.count += 1;
      if (edge.input) entry.inputs.add(edge.input);
    } else {
      const inputs = new Set(edge.input ? [edge.input] : []);
      merged.set(id, { group: "edges", data: { id, source, target, count: 1 }, inputs });
    }
  }
  return [...merged.values()].map(({ group, data, inputs }) => {
    const between = data.source.startsWith(GROUP) || data.target.startsWith(GROUP);
    const label = between ? (data.count > 1 ? String(data.count) : "") : [...inputs].sort().join(", ");
    return { group, data: { ...data, label } };
  });
}

const PALETTE = ["#4e79a7", "#59a14f", "#9c755f", "#af7aa1", "#76b7b2", "#edc948", "#ff9da7", "#bab0ac"];

/** A stable colour per resource type (the same type is the same colour in every view). */
export function colourOf(type) {
  let hash = 0;
  for (const char of String(type)) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

/** The starting view: grouped by the most used tag and collapsed when there are many resources. */
export function initialView(graph, filter = "") {
  const shown = graph.nodes.filter((node) => matches(node, filter)).length;
  if (shown <= COLLAPSE_AT) return { filter, groupBy: "", collapsed: new Set() };
  const groupBy = groupKeys(graph)[0];
  const keys = new Set(graph.nodes.map((node) => groupOf(node, groupBy)));
  return { filter, groupBy, collapsed: keys };
}
