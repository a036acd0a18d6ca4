// The page's entry point: signing in, and the views behind the location hash
// (#/timeline, #/commit/7, #/resource/haproxy, #/graph, #/graph/plan,
// #/checkpoints, #/staged, #/apply/3). Each view module exports
// `render(main, route)` and builds its part of the page from API answers. The
// graph view (with Cytoscape.js, most of the page's bytes) loads when first shown.

import { currentSession, forgetSession, resumeSession, signIn, signOut } from "./api.js";
import { h, problem, replace } from "./dom.js";
import * as checkpoints from "./checkpoints.js";
import * as commit from "./commit.js";
import * as resource from "./resource.js";
import * as staged from "./staged.js";
import * as timeline from "./timeline.js";

const VIEWS = {
  timeline: timeline.render,
  commit: commit.render,
  resource: resource.render,
  graph: async (main, route) => (await import("./graph.js")).render(main, route),
  checkpoints: checkpoints.render,
  staged: staged.render,
  apply: staged.renderApply,
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");

/** The hash as {view, args, params}: "#/resource/db?x=1" → {view: "resource", args: ["db"], ...}. */
export function parseRoute(hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [view = "timeline", ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { view, args, params: new URLSearchParams(query) };
}

function showSignIn(message) {
  nav.hidden = true;
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    required: true,
    "aria-describedby": "token-help",
  });
  const status = h("div", { "aria-live": "polite" }, message ? problem(message) : null);
  const form = h(
    "form",
    { class: "sign-in", id: "sign-in" },
    h("h2", {}, "Sign in"),
    h("label", { for: "token" }, "Token"),
    input,
    h("p", { id: "token-help", class: "help" }, "A token made with ", h("code", {}, "retrograde token create NAME"), "."),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn(input.value.trim());
      input.value = "";
      await route();
      main.focus();  // the form is gone: keyboard navigation starts at the content
    } catch (error) {
      replace(status, problem(`Sign-in refused: ${error.message}`));
      input.select();
    }
  });
  replace(main, form);
  input.focus();
}

async function route() {
  if (!currentSession() && !(await resumeSession())) {
    showSignIn();
    return;
  }
  const { name, role } = currentSession();
  document.getElementById("who").textContent = `${name} (${role})`;
  nav.hidden = false;
  const current = parseRoute(location.hash);
  const view = VIEWS[current.view];
  for (const anchor of nav.querySelectorAll("a")) {
    const active = anchor.dataset.view === current.view;
    if (active) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  if (!view) {
    replace(main, problem(`No such view: ${current.view}`));
    return;
  }
  // Each view renders into a container of its own: a slower earlier view that
  // finishes after the location moved on writes into a detached node, not the page.
  const container = h("div", { class: "view", dataset: { view: current.view } });
  replace(main, container);
  main.dataset.view = current.view;
  try {
    await view(container, current);
  } catch (error) {
    if (error.status !== 401) container.append(problem(error.message));
  }
}

window.addEventListener("retrograde:signed-out", () => {
  forgetSession();
  showSignIn("Your session has ended: sign in again.");
});
window.addEventListener("hashchange", route);
document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut().catch(() => {});
  showSignIn();
});
route();
