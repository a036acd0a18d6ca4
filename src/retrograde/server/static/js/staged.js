// What is staged and what applying it does: the staged diff, the plan, a
// confirm-and-apply dialog bound to the plan's digest (so the apply runs the
// plan that was shown, or is refused), and the live progress of an apply
// (#/apply/ID) from its server-sent events, ending with its report and commits.

import { followEvents, get, mayOperate, send, upload } from "./api.js";
import { append, h, link, problem, replace, showSide, showValue, table } from "./dom.js";

/** The event names an apply's stream may carry (besides plain messages). */
export const EVENT_NAMES = ["begin", "action_started", "action_finished", "action_failed", "report", "error"];
const DONE = new Set(["action_finished", "action_failed"]);

/** A `diff --json` changes object as a table: resource, action, input, from, to. */
export function changesTable(changes, attrs = {}) {
  const rows = [];
  for (const [resource, change] of Object.entries(changes || {})) {
    const inputs = Object.entries(change.diff || {});
    const first = [link(`resource/${encodeURIComponent(resource)}`, resource),
      h("span", { class: `action action-${change.action}` }, change.action)];
    if (!inputs.length) rows.push([...first, "", "", ""]);
    inputs.forEach(([input, sides], index) => rows.push([
      ...(index === 0 ? first : ["", ""]),
      h("code", {}, input),
      h("code", { class: "from" }, showSide(sides.from)),
      h("code", { class: "to" }, showSide(sides.to)),
    ]));
  }
  if (!rows.length) return h("p", { ...attrs, class: "help" }, "Nothing staged.");
  return table(["Resource", "Action", "Input", "From", "To"], rows, { class: "diff", ...attrs });
}

/** How many steps a plan holds: its staged renames (committed first) and its actions. */
export function stepCount(plan) {
  return (plan?.moves?.length || 0) + (plan?.actions?.length || 0);
}

/** A `plan --json` document as an ordered list: the staged renames (no handler), then the
 * actions with what they wait for. */
export function planList(plan, attrs = {}) {
  if (!stepCount(plan)) return h("p", { ...attrs, class: "help" }, "No action.");
  const moves = (plan.moves || []).map((move) => h("li", {},
    h("span", { class: "action action-move" }, "move"), " ", move.from, " → ",
    h("strong", {}, move.resource), h("span", { class: "help" }, " (no handler)")));
  return h("ol", { class: "plan", ...attrs }, [...moves, ...plan.actions.map((action) => h("li", {},
    h("span", { class: `action action-${action.action}` }, action.action), " ",
    h("strong", {}, action.resource),
    action.after.length ? h("span", { class: "help" }, ` after ${action.after.join(", ")}`) : null))]);
}

/** The digest that `POST /api/apply` checks the staged log against. */
export function digestOf(plan) {
  return plan.plan_digest;
}

function confirmDialog(plan, onConfirm) {
  const message = h("input", { id: "apply-message", name: "message", autocomplete: "off" });
  const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
  const dialog = h("dialog", { id: "confirm-apply", "aria-labelledby": "confirm-title" },
    h("form", { method: "dialog" },
      h("h3", { id: "confirm-title" }, `Apply ${stepCount(plan)} action${stepCount(plan) === 1 ? "" : "s"}?`),
      h("p", {}, "Every finished action writes one commit. The plan runs only if the staged log has not changed since it was shown."),
      h("label", { for: "apply-message" }, "Message"), message,
      h("div", { class: "buttons" }, h("button", { type: "submit", value: "apply", id: "confirm" }, "Apply"), cancel)));
  cancel.addEventListener("click", () => dialog.close("cancel"));
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "apply") onConfirm(message.value);
    dialog.remove();
  });
  return dialog;
}

async function startApply(plan, message, status) {
  try {
    const started = await send("POST", "apply", { plan_digest: digestOf(plan), message });
    const applyId = started.apply_id;
    location.hash = `#/apply/${applyId}`;
  } catch (error) {
    replace(status, problem(`Not applied: ${error.message}`));
  }
}

function discardButton(status) {
  return h("button", { type: "button", id: "discard", onclick: async () => {
    if (!window.confirm("Discard every staged change?")) return;
    try {
      await send("POST", "discard", { resources: [] });
      location.reload();
    } catch (error) {
      replace(status, problem(error.message));
    }
  } }, "Discard staged changes");
}

/** Where an uploaded file goes in the stack directory: a picked folder's own name is dropped. */
export function uploadPath(file) {
  const relative = file.webkitRelativePath || "";
  return relative ? relative.split("/").slice(1).join("/") : file.name;
}

function stageForm(status) {
  const files = h("input", { id: "stack-files", type: "file", multiple: true });
  const folder = h("input", { id: "stack-folder", type: "file", webkitdirectory: true });
  const stack = h("select", { id: "stack-name" }, h("option", { value: "" }, "stack.yaml or the only file"));
  const chosen = () => [...files.files, ...folder.files];
  const offer = () => {
    const names = chosen().map(uploadPath).filter((name) => /\.ya?ml$/.test(name)).sort();
    replace(stack, h("option", { value: "" }, "stack.yaml or the only file"),
      names.map((name) => h("option", { value: name }, name)));
    if (names.length === 1) stack.value = names[0];
  };
  files.addEventListener("change", offer);
  folder.addEventListener("change", offer);
  const form = h("form", { class: "inline", id: "stage-form" },
    h("label", { for: "stack-files" }, "Stack files"), files,
    h("label", { for: "stack-folder" }, "or a stack folder"), folder,
    h("label", { for: "stack-name" }, "Stack file"), stack,
    h("button", { type: "submit" }, "Stage"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData();
    for (const file of chosen()) body.append("files", file, uploadPath(file));
    try {
      const staged = await upload("stage", body, { stack: stack.value });
      lastWarnings = staged.warnings || [];
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      replace(status, problem(`Not staged: ${error.message}`));
    }
  });
  return form;
}

/** What the last staging from this page warned about, shown once above the staged diff. */
let lastWarnings = [];

function warnings() {
  const stored = lastWarnings;
  lastWarnings = [];
  return stored.length ? h("ul", { class: "warnings", id: "stage-warnings" },
    stored.map((warning) => h("li", {}, warning))) : null;
}

export async function render(main) {
  // The plan (with the digest an apply needs) is an operator's verb; a reader sees the diff.
  const operate = mayOperate();
  const [diff, plan] = await Promise.all([get("diff"), operate ? get("plan") : { actions: [] }]);
  const status = h("div", { "aria-live": "polite", id: "apply-status" });
  const applyButton = h("button", { type: "button", id: "apply", class: "primary",
    disabled: !stepCount(plan) || !operate }, "Apply…");
  applyButton.addEventListener("click", () => {
    const dialog = confirmDialog(plan, (message) => startApply(plan, message, status));
    append(main, dialog);
    dialog.showModal();
    dialog.querySelector("#apply-message").focus();
  });
  append(main, 
    operate ? h("h2", {}, "Stage a stack") : null,
    operate ? stageForm(status)
      : h("p", { class: "help", id: "read-only" }, "Your token is a reader: it can look, not stage or apply."),
    warnings(),
    h("h2", {}, "Staged changes"),
    changesTable(diff.changes, { id: "staged-changes" }),
    h("h2", {}, "Plan"),
    planList(plan, { id: "plan" }),
    h("p", {}, link("graph/plan", "Show the plan as a graph")),
    h("div", { class: "buttons" }, applyButton, stepCount(plan) && operate ? discardButton(status) : null),
    status);
}

const EVENT_WORDS = { action_started: "started", action_finished: "finished", action_failed: "failed" };

function eventLine(name, data) {
  const what = `${EVENT_WORDS[name] || name}: ${data.action || ""} ${data.resource || ""}`.trim();
  const failure = name === "action_failed" && data.failure
    ? ` (exit ${showValue(data.failure.exit_code)}: ${showValue(data.failure.error ?? "")})` : "";
  return what + failure;
}

function reportSection(report) {
  const commits = report.commits || [];
  return h("section", { id: "apply-report" },
    h("h3", {}, `Apply ${report.apply_id}: ${report.status}`),
    h("p", {}, `${commits.length} commit${commits.length === 1 ? "" : "s"}: `,
      commits.map((rev, index) => [index ? ", " : "", link(`commit/${rev}`, String(rev))])),
    (report.failed || []).length ? table(["Failed", "Exit", "Error"], report.failed.map((resource) => [
      resource, showValue(report.failures?.[resource]?.exit_code), h("pre", {}, report.failures?.[resource]?.error || "")]))
      : null,
    (report.skipped || []).length ? h("p", {}, `Skipped: ${report.skipped.join(", ")}`) : null,
    h("p", {}, link(`timeline?apply=${report.apply_id}`, "Its commits in the timeline")));
}

/** The live progress of apply ID from its event stream, ending with its report. */
export async function renderApply(main, route) {
  const applyId = route.args[0];
  const bar = h("progress", { id: "apply-progress", max: "1", value: "0" });
  const counter = h("p", { id: "apply-count", "aria-live": "polite" }, "Waiting for the first event…");
  const lines = h("ol", { id: "apply-events", class: "events" });
  const end = h("div", {});
  append(main, h("h2", {}, `Apply ${applyId}`), bar, counter, lines, end);
  let done = 0;
  let total = 0;
  let close = () => {};
  const onEvent = (name, data) => {
    if (name === "connection-error") {
      if (!end.childElementCount) counter.textContent = "The event stream was interrupted; reconnecting…";
    } else if (name === "begin") {
      total = data.total;
      bar.max = String(Math.max(total, 1));
      counter.textContent = `0 of ${total} actions done`;
    } else if (name === "report" || name === "error") {
      close();
      bar.value = bar.max;
      counter.textContent = name === "report" ? `Finished: ${data.status}` : `Stopped: ${data.error?.message}`;
      main.dataset.apply = "finished";
      if (name === "report") replace(end, reportSection({ ...data, apply_id: data.apply_id ?? applyId }));
      else replace(end, problem(data.error?.message || "the apply stopped"));
    } else if (data && typeof data === "object") {
      lines.append(h("li", { class: `event event-${name}` }, eventLine(name, data)));
      if (DONE.has(name)) {
        done += 1;
        bar.value = String(done);
        counter.textContent = `${done} of ${total || "?"} actions done`;
      }
    }
  };
  close = followEvents(applyId, onEvent, EVENT_NAMES);
  window.addEventListener("hashchange", () => close(), { once: true });
}
