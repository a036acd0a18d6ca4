// One resource: its committed inputs with where each comes from, the commit
// that last set each input (blame), and its history (the log filtered by it).

import { get } from "./api.js";
import { append, h, link, showTime, showValue, table } from "./dom.js";
import { commitRow } from "./timeline.js";

function stateSection(name, resource) {
  if (!resource) return h("p", { class: "help" }, `${name} is not in committed state (removed, or never applied).`);
  const rows = Object.entries(resource.inputs || {}).map(([input, value]) => [
    h("code", {}, input),
    h("code", {}, showValue(value)),
    h("code", {}, showValue(resource.connections?.[input] ?? "")),
  ]);
  const tags = Object.entries(resource.tags || {}).map(([key, value]) => h("span", { class: "tag" }, `${key}=${value}`));
  return h("section", {},
    h("h3", {}, "Committed state"),
    h("p", {}, `type ${resource.type} v${resource.version}`, tags.length ? " · " : "", tags),
    table(["Input", "Value", "Connected from"], rows, { id: "resource-inputs" }));
}

function blameSection(blame) {
  const rows = Object.entries(blame.inputs || {}).map(([input, entry]) => [
    h("code", {}, input),
    h("code", {}, showValue(entry.value)),
    entry.rev === null ? "" : link(`commit/${entry.rev}`, String(entry.rev)),
    entry.principal || "",
    showTime(entry.timestamp),
    entry.message || "",
  ]);
  return h("section", {}, h("h3", {}, "Blame"),
    table(["Input", "Value", "Rev", "Principal", "Time", "Message"], rows, { id: "blame" }));
}

async function optional(promise) {
  try {
    return await promise;
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

export async function render(main, route) {
  const name = route.args[0];
  const [resource, blame, history] = await Promise.all([
    optional(get(`state/${encodeURIComponent(name)}`)),
    optional(get(`blame/${encodeURIComponent(name)}`)),
    get("log", { resource: name, limit: 100 }),
  ]);
  const current = resource?.resources ? resource.resources[name] : resource;
  append(main, 
    h("h2", {}, `Resource ${name}`),
    h("p", {}, link(`graph?focus=${encodeURIComponent(name)}`, "Show in the graph")),
    stateSection(name, current),
    blame ? blameSection(blame) : null,
    h("section", {}, h("h3", {}, "History"),
      table(["Rev", "Time", "Resource", "Action", "Apply", "Principal", "Message"],
        history.commits.map(commitRow), { id: "history" }),
      history.next ? link(`timeline?resource=${encodeURIComponent(name)}`, "Older commits in the timeline") : null),
  );
}
