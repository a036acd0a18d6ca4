// Checkpoints (named revisions): the list, naming the current head, and for
// each one a rollback preview — what going back to it would change and the
// plan it leads to — computed by the server without staging anything.

import { get, mayOperate, send } from "./api.js";
import { append, h, link, problem, replace, showTime, table } from "./dom.js";
import { changesTable, planList } from "./staged.js";

function previewOf(holder, checkpoint) {
  return async () => {
    replace(holder, h("p", { class: "help" }, `Computing the rollback to ${checkpoint.name}…`));
    try {
      const preview = await send("POST", "rollback", { target: checkpoint.name, preview: true });
      replace(holder,
        h("h3", { id: "preview-title", tabindex: -1 }, `Rollback to ${checkpoint.name} (rev ${checkpoint.rev}): preview`),
        h("p", { class: "help" }, "Nothing is staged by a preview. Run `retrograde rollback` or stage it to apply."),
        changesTable(preview.changes, { id: "rollback-changes" }),
        planList(preview.plan, { id: "rollback-plan" }));
      holder.querySelector("#preview-title").focus();
    } catch (error) {
      replace(holder, problem(error.message));
    }
  };
}

function createForm(reload) {
  const name = h("input", { id: "checkpoint-name", name: "name", required: true, autocomplete: "off" });
  const description = h("input", { id: "checkpoint-description", name: "description", autocomplete: "off" });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline", id: "checkpoint-form" },
    h("label", { for: "checkpoint-name" }, "Name"), name,
    h("label", { for: "checkpoint-description" }, "Message"), description,
    h("button", { type: "submit" }, "Name the current head"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await send("POST", "checkpoints", { name: name.value.trim(), message: description.value });
      reload();
    } catch (error) {
      replace(status, problem(error.message));
    }
  });
  return form;
}

export async function render(main) {
  const { checkpoints } = await get("checkpoints");
  const preview = h("section", { id: "rollback-preview", "aria-live": "polite" });
  const rows = checkpoints.map((checkpoint) => [
    checkpoint.name,
    link(`commit/${checkpoint.rev}`, String(checkpoint.rev)),
    checkpoint.description || "",
    checkpoint.principal,
    showTime(checkpoint.timestamp),
    h("button", { type: "button", class: "preview", onclick: previewOf(preview, checkpoint) }, "Preview rollback"),
  ]);
  append(main, 
    h("h2", {}, "Checkpoints"),
    rows.length ? table(["Name", "Rev", "Description", "Principal", "Time", ""], rows, { id: "checkpoints" })
      : h("p", {}, "No checkpoint yet."),
    mayOperate() ? createForm(() => { main.replaceChildren(); render(main); }) : null,
    preview);
}
