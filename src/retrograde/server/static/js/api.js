// The page's one way to talk to the server: the JSON API under api/, relative
// to the page (so the page works under a reverse proxy's root path too).
//
// Signing in trades a token (sent once, as a bearer credential) for an
// HttpOnly session cookie the script never sees, plus a CSRF value that every
// writing request repeats in a header. Neither the token nor the CSRF value is
// stored by the page: a reloaded page asks the server for its session again.

const CSRF_HEADER = "X-Retrograde-CSRF";

/** The signed-in session ({name, role, csrf, expires}), or null. */
let session = null;

/** An error answer of the API: `status` and the `error` object of docs/json.md. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `the server answered ${status}`);
    this.status = status;
    this.error = error || {};
  }
}

/** The URL of an API path ("log", {resource: "db"}) relative to the page. */
export function apiUrl(path, params = {}) {
  const url = new URL(`api/${path}`, document.baseURI);
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  return url;
}

async function answer(response, quiet = false) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.status === 401 && !quiet) window.dispatchEvent(new CustomEvent("retrograde:signed-out"));
  if (!response.ok) throw new ApiError(response.status, body?.error || { message: text.slice(0, 200) });
  return body;
}

/** GET a JSON document. */
export async function get(path, params = {}) {
  return answer(await fetch(apiUrl(path, params), { credentials: "same-origin" }));
}

/** A writing request (POST, DELETE...) with a JSON body and the CSRF header. */
export async function send(method, path, body = undefined) {
  const headers = { [CSRF_HEADER]: session?.csrf || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiUrl(path), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer(response);
}

/** POST a multipart form (an upload) with the CSRF header; `params` go in the query. */
export async function upload(path, form, params = {}) {
  const response = await fetch(apiUrl(path, params), {
    method: "POST",
    headers: { [CSRF_HEADER]: session?.csrf || "" },
    credentials: "same-origin",
    body: form,
  });
  return answer(response);
}

/** Sign in with a token: the server sets the session cookie and gives the CSRF value. */
export async function signIn(token) {
  const response = await fetch(apiUrl("session"), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    credentials: "same-origin",
  });
  session = await answer(response, true);
  return session;
}

/** The session of a reloaded page (its cookie still valid), or null when there is none. */
export async function resumeSession() {
  try {
    session = await answer(await fetch(apiUrl("session"), { credentials: "same-origin" }), true);
  } catch {
    session = null;
  }
  return session;
}

/** Sign out: the server drops the session and its cookie. */
export async function signOut() {
  try {
    await send("DELETE", "session");
  } finally {
    session = null;
  }
}

/** The current session, or null. */
export function currentSession() {
  return session;
}

/** Whether the signed-in token may change the store (operator or admin); the server decides anyway. */
export function mayOperate() {
  return session?.role === "operator" || session?.role === "admin";
}

/** Forget the session (the server has ended it). */
export function forgetSession() {
  session = null;
}

/**
 * Follow an apply's server-sent events: `onEvent(name, data)` for each event
 * named in `names` (data parsed as JSON), `onEvent("connection-error", null)`
 * when the stream drops (EventSource then reconnects by itself, resuming after
 * the last event id). Returns the function that stops following.
 */
export function followEvents(applyId, onEvent, names) {
  const source = new EventSource(apiUrl(`applies/${encodeURIComponent(applyId)}/events`), {
    withCredentials: true,
  });
  const relay = (event) => {
    if (!(event instanceof MessageEvent)) {
      onEvent("connection-error", null);
      return;
    }
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      data = event.data;
    }
    onEvent(event.type, data);
  };
  for (const name of new Set(["message", "error", ...names])) source.addEventListener(name, relay);
  return () => source.close();
}
