// Talking to OS1's HTTP API: JSON calls, server-sent event streams, and errors a person can act on.

export class ApiError extends Error {
  constructor(message, { status = 0, hint = null, type = "Error" } = {}) {
    super(message);
    this.status = status;
    this.hint = hint;
    this.type = type;
  }
  get unavailable() { return this.status === 404 || this.status === 405; }
  get offline() { return this.status === 0; }
}

async function errorFrom(res) {
  let message = `Something went wrong (${res.status}).`;
  let hint = null;
  let type = "Error";
  try {
    const body = await res.json();
    if (body.error) {
      message = body.error.message || message;
      hint = body.error.hint || null;
      type = body.error.type || type;
    } else if (Array.isArray(body.detail)) {
      message = body.detail.map((d) => d.msg).join("; ");
      hint = "Check what you entered.";
    }
  } catch { /* not JSON: keep the status line */ }
  if (res.status === 404) message = "This part of OS1 isn't available on this server.";
  return new ApiError(message, { status: res.status, hint, type });
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A cookie's value (the CSRF token is in `os1_csrf`, readable by the page on purpose). */
export function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}

/** Signed out (or never signed in) on a server that asks everyone to: go to the sign-in page, then come back. */
export function toLogin() {
  if (location.pathname === "/login") return;
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
}

async function send(path, init = {}) {
  const method = (init.method || "GET").toUpperCase();
  const csrf = cookie("os1_csrf");
  if (UNSAFE.has(method) && csrf) init = { ...init, headers: { ...(init.headers || {}), "X-CSRF-Token": csrf } };
  let res;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch {
    throw new ApiError("Can't reach OS1.", { hint: "Is `os1 serve` still running? I'll keep trying." });
  }
  if (res.status === 401 && !path.startsWith("/api/v1/auth/login")) toLogin();
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function get(path) {
  return (await send(path)).json();
}

export async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await send(path, init);
  return res.status === 204 ? null : res.json();
}

/** POST and read server-sent events (`data: {json}` blocks), calling onEvent for each. */
export async function stream(path, body, onEvent, signal) {
  const res = await send(path, {
    method: "POST", signal,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : null,
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (chunk.startsWith("data: ")) onEvent(JSON.parse(chunk.slice(6)));
    }
  }
}

let routesPromise = null;

/** Whether this server offers a route (other parts of OS1 may not be installed): read from /openapi.json. */
export async function offers(method, path) {
  routesPromise ||= fetch("/openapi.json").then((r) => r.json()).then((doc) => {
    const found = new Set();
    for (const [p, ops] of Object.entries(doc.paths || {})) for (const m of Object.keys(ops)) found.add(`${m.toUpperCase()} ${p}`);
    return found;
  }).catch(() => { routesPromise = null; return new Set(); });
  return (await routesPromise).has(`${method.toUpperCase()} ${path}`);
}

export function describe(err) {
  if (err instanceof ApiError) return err.hint ? `${err.message} ${err.hint}` : err.message;
  return String(err && err.message ? err.message : err);
}

/** A small element builder: el("li", {class: "x"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
