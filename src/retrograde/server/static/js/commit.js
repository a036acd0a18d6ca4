// One commit: who, when and why, its forward diff (what it changed) and its
// reverse diff (what reverting it would change back), its connections and
// tags before and after, and what its handler wrote (secrets masked).

import { get } from "./api.js";
import { append, h, link, showSide, showTime, showValue, table } from "./dom.js";

/** A diff ({input: {from, to}}) as a table; values as text, never markup. */
export function diffTable(diff, attrs = {}) {
  const rows = Object.entries(diff || {}).map(([input, sides]) => [
    h("code", {}, input),
    h("code", { class: "from" }, showSide(sides.from)),
    h("code", { class: "to" }, showSide(sides.to)),
  ]);
  if (!rows.length) return h("p", { class: "help" }, "No input value changes.");
  return table(["Input", "From", "To"], rows, { class: "diff", ...attrs });
}

function sidesTable(title, sides) {
  if (!sides) return null;
  const names = new Set([...Object.keys(sides.before || {}), ...Object.keys(sides.after || {})]);
  if (!names.size) return null;
  const rows = [...names].sort().map((name) => [
    h("code", {}, name),
    h("code", {}, showValue(sides.before?.[name])),
    h("code", {}, showValue(sides.after?.[name])),
  ]);
  return h("section", {}, h("h3", {}, title), table([title.replace(/s$/, ""), "Before", "After"], rows));
}

function facts(commit) {
  const rows = [
    ["Resource", link(`resource/${encodeURIComponent(commit.resource)}`, commit.resource)],
    ["Action", commit.action],
    ["Type", `${commit.type} v${commit.version}`],
    ["Apply", commit.apply_id === null ? "" : link(`timeline?apply=${commit.apply_id}`, String(commit.apply_id))],
    ["Principal", commit.principal],
    ["Time", showTime(commit.timestamp)],
    ["Message", commit.message || ""],
    ["Reverts", (commit.reverts || []).map((rev) => link(`commit/${rev}`, String(rev)))],
    ["Hash", h("code", {}, commit.hash)],
  ];
  return h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

async function handlerOutput(rev) {
  let logs = [];
  try {
    ({ logs } = await get(`logs/${rev}`));
  } catch {
    return null;
  }
  if (!logs.length) return null;
  return h("section", {}, h("h3", {}, "Handler output"),
    logs.map((entry) => h("div", { class: "output" },
      h("p", {}, `attempt ${entry.attempt}: ${entry.ok ? "ok" : "failed"}`),
      entry.stdout ? h("pre", { tabindex: 0 }, entry.stdout) : null,
      entry.stderr ? h("pre", { class: "stderr", tabindex: 0 }, entry.stderr) : null)));
}

export async function render(main, route) {
  const rev = route.args[0];
  const [commit, output] = await Promise.all([get(`commits/${encodeURIComponent(rev)}`), handlerOutput(rev)]);
  append(main, 
    h("h2", {}, `Commit ${commit.rev}`),
    h("nav", { class: "pager", "aria-label": "Neighbouring commits" },
      commit.rev > 1 ? link(`commit/${commit.rev - 1}`, "← previous") : null,
      link(`commit/${commit.rev + 1}`, "next →")),
    facts(commit),
    h("section", { "aria-labelledby": "forward-title" },
      h("h3", { id: "forward-title" }, "Diff"), diffTable(commit.diff, { id: "forward-diff" })),
    h("section", { "aria-labelledby": "reverse-title" },
      h("h3", { id: "reverse-title" }, "Reverse diff (what reverting it changes)"),
      diffTable(commit.reverse, { id: "reverse-diff" })),
    sidesTable("Connections", commit.connections),
    sidesTable("Tags", commit.tags),
    output,
  );
}
