// The timeline: the newest applies, and the commit log with the filters of
// `retrograde log` (resource, principal, apply, action, input, since, until),
// a page at a time through the log's cursor. The filters live in the location
// hash, so a filtered view can be bookmarked and Back undoes a filter.

import { get } from "./api.js";
import { append, h, link, problem, replace, showTime, table } from "./dom.js";

export const FILTERS = [
  { name: "resource", label: "Resource" },
  { name: "principal", label: "Principal" },
  { name: "apply", label: "Apply", inputmode: "numeric" },
  { name: "action", label: "Action", options: ["", "run", "update", "remove", "migrate"] },
  { name: "input", label: "Input" },
  { name: "rev_from", label: "From rev", inputmode: "numeric" },
  { name: "rev_to", label: "To rev", inputmode: "numeric" },
  { name: "since", label: "Since", placeholder: "2h, 3d, 2026-11-25 15:35" },
  { name: "until", label: "Until", placeholder: "2026-11-25T15:35:56Z" },
];

const PAGE = 50;

function filterField(filter, value) {
  const id = `filter-${filter.name}`;
  const control = filter.options
    ? h("select", { id, name: filter.name }, filter.options.map((option) =>
        h("option", { value: option, selected: option === value }, option || "any")))
    : h("input", {
        id,
        name: filter.name,
        value,
        placeholder: filter.placeholder,
        inputmode: filter.inputmode,
        autocomplete: "off",
      });
  return h("div", { class: "field" }, h("label", { for: id }, filter.label), control);
}

function filterForm(params) {
  const form = h(
    "form",
    { class: "filters", id: "log-filters", role: "search" },
    FILTERS.map((filter) => filterField(filter, params.get(filter.name) || "")),
    h("div", { class: "buttons" },
      h("button", { type: "submit" }, "Filter"),
      h("button", { type: "reset" }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim()) query.set(name, String(value).trim());
    location.hash = `#/timeline${query.size ? `?${query}` : ""}`;
  });
  form.addEventListener("reset", () => {
    location.hash = "#/timeline";
  });
  return form;
}

/** One row of the commit table. */
export function commitRow(commit) {
  return [
    link(`commit/${commit.rev}`, String(commit.rev), { class: "rev" }),
    showTime(commit.timestamp),
    link(`resource/${encodeURIComponent(commit.resource)}`, commit.resource),
    h("span", { class: `action action-${commit.action}` }, commit.action),
    commit.apply_id === null ? "" : link(`timeline?apply=${commit.apply_id}`, String(commit.apply_id)),
    commit.principal,
    commit.message || "",
  ];
}

function commitTable(commits) {
  return table(["Rev", "Time", "Resource", "Action", "Apply", "Principal", "Message"],
    commits.map(commitRow), { class: "commits", id: "commits" });
}

async function appliesSection() {
  const { applies } = await get("applies", { limit: 10 });
  const rows = applies.map((apply) => [
    link(`timeline?apply=${apply.id}`, String(apply.id), { class: "apply-id" }),
    h("span", { class: `status status-${apply.status}` }, apply.status),
    showTime(apply.started_at),
    apply.principal,
    apply.message || "",
    `${apply.succeeded} ok, ${apply.failed} failed, ${apply.skipped} skipped`,
  ]);
  return h("section", { "aria-labelledby": "applies-title" },
    h("h2", { id: "applies-title" }, "Applies"),
    rows.length
      ? table(["Apply", "Status", "Started", "Principal", "Message", "Actions"], rows, { id: "applies" })
      : h("p", {}, "No apply yet."));
}

function filtersOf(params) {
  const filters = {};
  for (const filter of FILTERS) if (params.get(filter.name)) filters[filter.name] = params.get(filter.name);
  return filters;
}

async function commitsSection(params) {
  const filters = filtersOf(params);
  const holder = h("div", {});
  const more = h("button", { type: "button", id: "older" }, "Older commits");
  const status = h("p", { "aria-live": "polite", class: "help" });
  const section = h("section", { "aria-labelledby": "commits-title" },
    h("h2", { id: "commits-title" }, "Commits"), filterForm(params), status, holder, more);
  let next = null;
  let shown = [];
  const load = async (before) => {
    let page;
    try {
      page = await get("log", { ...filters, limit: PAGE, before });
    } catch (error) {
      if (error.status === 401) throw error;
      replace(holder, problem(`The log refused this search: ${error.message}`));
      more.hidden = true;
      status.textContent = "";
      return;
    }
    shown = shown.concat(page.commits);
    next = page.next;
    replace(holder, shown.length ? commitTable(shown) : h("p", { id: "no-commits" }, "No commit matches."));
    more.hidden = next === null || next === undefined;
    status.textContent = `${shown.length} commit${shown.length === 1 ? "" : "s"} shown`;
  };
  more.addEventListener("click", () => load(next));
  await load(null);
  return section;
}

export async function render(main, route) {
  const [applies, commits] = await Promise.all([appliesSection(), commitsSection(route.params)]);
  append(main, h("h2", { class: "visually-hidden" }, "Timeline"), applies, commits);
}
