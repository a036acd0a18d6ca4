// What is staged and what applying it does: the staged diff, the plan, a
// confirm-and-apply dialog bound to the plan's digest (so the apply runs the
// plan that was shown, or is refused), and the live progress of an apply
// (#/apply/ID) from its server-sent events, ending with its report and commits.

import { followEvents, get, send } from "./api.js";
import { h, link, problem, replace, showValue, table } from "./dom.js";

/** The event names an apply's stream may carry (besides plain messages). */
export const EVENT_NAMES = ["started", "finished", "failed", "skipped", "retry", "report", "end", "done", "error"];
const FINAL = new Set(["report", "end", "done"]);

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
      h("code", { class: "from" }, showValue(sides.from)),
      h("code", { class: "to" }, showValue(sides.to)),
    ]));
  }
  if (!rows.length) return h("p", { ...attrs, class: "help" }, "Nothing staged.");
  return table(["Resource", "Action", "Input", "From", "To"], rows, { class: "diff", ...attrs });
}

/** A `plan --json` document as an ordered list of actions with what they wait for. */
export function planList(plan, attrs = {}) {
  if (!plan?.actions?.length) return h("p", { ...attrs, class: "help" }, "No action.");
  return h("ol", { class: "plan", ...attrs }, plan.actions.map((action) => h("li", {},
    h("span", { class: `action action-${action.action}` }, action.action), " ",
    h("strong", {}, action.resource),
    action.after.length ? h("span", { class: "help" }, ` after ${action.after.join(", ")}`) : null)));
}

/** The digest that `POST /api/apply` checks the staged log against. */
export function digestOf(plan) {
  return plan.plan_digest ?? plan.digest ?? plan.plan_file?.digest ?? null;
}

function confirmDialog(plan, onConfirm) {
  const message = h("input", { id: "apply-message", name: "message", autocomplete: "off" });
  const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
  const dialog = h("dialog", { id: "confirm-apply", "aria-labelledby": "confirm-title" },
    h("form", { method: "dialog" },
      h("h3", { id: "confirm-title" }, `Apply ${plan.actions.length} action${plan.actions.length === 1 ? "" : "s"}?`),
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
    const started = await send("POST", "apply", { plan_digest: digestOf(plan), message: message || undefined });
    const applyId = started.apply_id ?? started.id;
    sessionStorage.setItem(`retrograde.apply.${applyId}.total`, String(plan.actions.length));
    location.hash = `#/apply/${applyId}`;
  } catch (error) {
    replace(status, problem(`Not applied: ${error.message}`));
  }
}

function discardButton(status) {
  return h("button", { type: "button", id: "discard", onclick: async () => {
    if (!window.confirm("Discard every staged change?")) return;
    try {
      await send("POST", "discard", {});
      location.reload();
    } catch (error) {
      replace(status, problem(error.message));
    }
  } }, "Discard staged changes");
}

export async function render(main) {
  const [diff, plan] = await Promise.all([get("diff"), get("plan")]);
  const status = h("div", { "aria-live": "polite", id: "apply-status" });
  const applyButton = h("button", { type: "button", id: "apply", class: "primary",
    disabled: !plan.actions.length }, "Apply…");
  applyButton.addEventListener("click", () => {
    const dialog = confirmDialog(plan, (message) => startApply(plan, message, status));
    main.append(dialog);
    dialog.showModal();
    dialog.querySelector("#apply-message").focus();
  });
  main.append(
    h("h2", {}, "Staged changes"),
    changesTable(diff.changes, { id: "staged-changes" }),
    h("h2", {}, "Plan"),
    planList(plan, { id: "plan" }),
    h("p", {}, link("graph/plan", "Show the plan as a graph")),
    h("div", { class: "buttons" }, applyButton, plan.actions.length ? discardButton(status) : null),
    status);
}

function eventLine(name, data) {
  if (data && typeof data === "object") {
    const what = [data.action, data.resource].filter(Boolean).join(" ");
    const kind = data.event ?? data.kind ?? data.type ?? name;
    return `${kind}${what ? `: ${what}` : ""}${data.rev ? ` (commit ${data.rev})` : ""}`;
  }
  return `${name}${data ? `: ${showValue(data)}` : ""}`;
}

function kindOf(name, data) {
  return (data && typeof data === "object" && (data.event ?? data.kind ?? data.type)) || name;
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

/** The live progress of apply ID from its event stream. */
export async function renderApply(main, route) {
  const applyId = route.args[0];
  const total = Number(sessionStorage.getItem(`retrograde.apply.${applyId}.total`)) || 0;
  const bar = h("progress", { id: "apply-progress", max: String(total || 1), value: "0" });
  const counter = h("p", { id: "apply-count", "aria-live": "polite" }, "Waiting for the first event…");
  const lines = h("ol", { id: "apply-events", class: "events" });
  const end = h("div", {});
  main.append(h("h2", {}, `Apply ${applyId}`), bar, counter, lines, end);
  let done = 0;
  let close = () => {};
  const onEvent = (name, data) => {
    if (name === "connection-error") {
      if (!end.childElementCount) counter.textContent = "The event stream was interrupted; reconnecting…";
      return;
    }
    const kind = kindOf(name, data);
    if (FINAL.has(kind) || (data && typeof data === "object" && data.status && data.commits)) {
      close();
      const report = data?.report ?? data;
      bar.max = bar.max || 1;
      bar.value = bar.max;
      counter.textContent = `Finished: ${report.status}`;
      replace(end, reportSection({ apply_id: applyId, ...report }));
      return;
    }
    lines.append(h("li", { class: `event event-${kind}` }, eventLine(name, data)));
    if (kind === "finished" || kind === "failed" || kind === "skipped") {
      done += 1;
      if (done > bar.max) bar.max = done;
      bar.value = done;
      counter.textContent = `${done} of ${total || "?"} actions done`;
    }
  };
  close = followEvents(applyId, onEvent, EVENT_NAMES);
  window.addEventListener("hashchange", () => close(), { once: true });
}
