// The minimal chat page: streams replies over server-sent events from POST /api/v1/chat/stream.
const log = document.getElementById("log");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const send = document.getElementById("send");
const statusEl = document.getElementById("status");
const nameEl = document.getElementById("companion-name");
const memoriesEl = document.getElementById("memories");

function bubble(role, text) {
  const li = document.createElement("li");
  li.className = role;
  li.textContent = text;
  log.appendChild(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

async function streamEvents(url, body, onEvent) {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                 body: body ? JSON.stringify(body) : null });
  if (!res.ok) {
    let msg = `Error ${res.status}`;
    try { const j = await res.json(); msg = j.error ? j.error.message + (j.error.hint ? " — " + j.error.hint : "") : msg; } catch (e) {}
    throw new Error(msg);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i); buf = buf.slice(i + 2);
      if (chunk.startsWith("data: ")) onEvent(JSON.parse(chunk.slice(6)));
    }
  }
}

function handle(target) {
  return (ev) => {
    if (ev.type === "delta") { target.textContent += ev.text; target.scrollIntoView({ block: "end" }); }
    else if (ev.type === "recalled") {
      memoriesEl.replaceChildren(...ev.memories.map((m) => { const li = document.createElement("li"); li.textContent = `${m.source}: ${m.text}`; return li; }));
    }
    else if (ev.type === "safety") bubble("notice", `${ev.message}\n${ev.resources.join("\n")}`);
    else if (ev.type === "done") { target.textContent = ev.reply; if (ev.companion_name) nameEl.textContent = ev.companion_name; }
    else if (ev.type === "error") bubble("error", ev.error.message + (ev.error.hint ? " — " + ev.error.hint : ""));
  };
}

async function refreshStatus() {
  try {
    const h = await (await fetch("/api/v1/health")).json();
    statusEl.textContent = h.model_state === "ready" ? "Here with you" :
      h.model_state === "loading" ? "Waking up (loading the model)…" : "Model unavailable: " + (h.model_error?.message || "");
    return h.model_state;
  } catch (e) { statusEl.textContent = "Offline: can't reach OS1"; return "offline"; }
}

async function start() {
  const profile = await (await fetch("/api/v1/profile")).json();
  nameEl.textContent = profile.companion_name || "OS1";
  const hist = await (await fetch("/api/v1/history?limit=50")).json();
  for (const m of hist.messages) bubble(m.role, m.text);
  let state = await refreshStatus();
  const timer = setInterval(async () => { state = await refreshStatus(); if (state === "ready") clearInterval(timer); }, 1500);
  if (profile.stage === "new" && hist.messages.length === 0) {
    const target = bubble("assistant", "");
    try { await streamEvents("/api/v1/greet", null, handle(target)); } catch (e) { target.remove(); bubble("error", e.message); }
  }
  input.focus();
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send.disabled = true;
  bubble("user", text);
  const target = bubble("assistant", "");
  try { await streamEvents("/api/v1/chat/stream", { message: text }, handle(target)); }
  catch (err) { target.remove(); bubble("error", err.message); }
  finally { send.disabled = false; input.focus(); }
});
input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
start();
