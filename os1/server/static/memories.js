// "What I know about you": search, browse by person, topic and time, see where each memory came from,
// correct it, or forget it (and everything worked out from it).
import { call, describe, el, get, when } from "./api.js";

const list = document.getElementById("memory-list");
const status = document.getElementById("memory-status");
const searchForm = document.getElementById("memory-search");
const query = document.getElementById("memory-query");
const kind = document.getElementById("memory-kind");
const period = document.getElementById("memory-period");
const people = document.getElementById("people");
const topics = document.getElementById("topics");

let items = [];       // the memories shown, before the topic and time filters
let topic = null;     // a fact kind chosen as topic, or null
const DAY = 86400000;

function say(text, { error = false } = {}) {
  status.textContent = text;
  status.classList.toggle("error", error);
}

function inPeriod(m) {
  const days = Number(period.value);
  return !days || Date.now() - new Date(m.created_at).getTime() <= days * DAY;
}

function monthOf(iso) {
  return new Date(iso).toLocaleDateString(undefined, { month: "long", year: "numeric" });
}

function render() {
  const shown = items.filter((m) => inPeriod(m) && (!topic || m.fact_kind === topic));
  list.replaceChildren();
  let month = null;
  for (const m of shown) {
    const label = monthOf(m.created_at);
    if (label !== month) { month = label; list.append(el("li", { class: "month", role: "presentation" }, label)); }
    list.append(card(m));
  }
  if (!shown.length) say(items.length ? "Nothing here for that filter." : "Nothing yet. Talk for a while and what I learn shows up here.");
  else say(`${shown.length} ${shown.length === 1 ? "memory" : "memories"}.`);
}

function renderTopics() {
  const kinds = [...new Set(items.map((m) => m.fact_kind).filter(Boolean))].sort();
  topics.replaceChildren(...kinds.map((k) => el("button", {
    type: "button", class: "chip", "aria-pressed": String(topic === k),
    onclick: () => { topic = topic === k ? null : k; renderTopics(); render(); },
  }, k)));
  topics.closest(".browse-row").hidden = kinds.length === 0;
}

function card(m) {
  const id = m.id || m.ref;
  const text = el("p", { class: "mem-text" }, m.text);
  const badge = el("span", { class: `badge ${m.kind}` }, m.current === false ? `${m.kind} · was true` : m.kind);
  const source = el("p", { class: "source" }, `${m.source} · ${when(m.created_at)} · ${id}`);
  const more = el("details", { class: "more", ontoggle: (e) => e.target.open && showMore(id, more) },
    el("summary", {}, "Where this came from"), el("div", { class: "more-body" }, "…"));
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", class: "secondary", onclick: () => edit(m, li, text) }, "Edit"),
    el("button", { type: "button", class: "danger", onclick: () => forget(id, li) }, "Forget"));
  const li = el("li", { class: "memory", "data-id": id }, badge, text, source, more, actions);
  return li;
}

async function showMore(id, details) {
  const body = details.querySelector(".more-body");
  try {
    const m = await get(`/api/v1/memory/${encodeURIComponent(id)}`);
    const rows = [];
    if (m.source_text) rows.push(el("p", {}, el("strong", {}, "You said: "), m.source_text));
    if (m.sources && m.sources.length) rows.push(el("p", {}, el("strong", {}, "Based on: "), m.sources.join(", ")));
    if (m.derived_facts && m.derived_facts.length) rows.push(el("p", {}, el("strong", {}, "What I worked out from it: "), m.derived_facts.join(", ")));
    if (m.emotion) rows.push(el("p", {}, el("strong", {}, "How it read: "), m.emotion));
    if (m.history && m.history.length > 1) {
      rows.push(el("p", {}, el("strong", {}, "History:")),
        el("ul", {}, m.history.map((h) => el("li", {}, `${h.text} (${h.source})`))));
    }
    body.replaceChildren(...(rows.length ? rows : [el("p", {}, m.source)]));
  } catch (err) {
    body.textContent = describe(err);
  }
}

function edit(m, li, textEl) {
  const id = m.id || m.ref;
  const label = `edit-${id}`;
  const area = el("textarea", { id: label, rows: "3" }, m.text);
  const form = el("form", { class: "edit" },
    el("label", { for: label }, "Correct this memory"), area,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", onclick: () => form.replaceWith(textEl) }, "Cancel")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const updated = await call("PATCH", `/api/v1/memory/${encodeURIComponent(id)}`, { text: area.value });
      m.text = updated.text;
      textEl.textContent = updated.text;
      form.replaceWith(textEl);
      say("Saved. I'll remember it that way.");
    } catch (err) { say(describe(err), { error: true }); }
  });
  textEl.replaceWith(form);
  area.focus();
}

async function forget(id, li) {
  let preview;
  try {
    preview = (await call("POST", "/api/v1/memory/forget", { query: id, dry_run: true })).would_forget;
  } catch (err) { say(describe(err), { error: true }); return; }
  const also = [...preview.facts, ...preview.reflections, ...preview.exchanges].filter((x) => x !== id);
  const msg = also.length
    ? `Forget ${id}, and ${also.length} more worked out from it (${also.join(", ")})? This can't be undone.`
    : `Forget ${id}? This can't be undone.`;
  if (!window.confirm(msg)) return;
  try {
    const gone = await call("DELETE", `/api/v1/memory/${encodeURIComponent(id)}`);
    const goneIds = new Set([...gone.exchanges, ...gone.facts, ...gone.reflections]);
    items = items.filter((m) => !goneIds.has(m.id || m.ref));
    li.remove();
    render();
    say(`Forgotten: ${gone.forgotten} ${gone.forgotten === 1 ? "item" : "items"}.`);
  } catch (err) { say(describe(err), { error: true }); }
}

async function load() {
  say("Loading…");
  try {
    const q = query.value.trim();
    if (q) {
      const found = await get(`/api/v1/memory/search?q=${encodeURIComponent(q)}&limit=50`);
      items = found.memories.map((m) => ({ ...m, id: m.ref }));
    } else {
      items = (await get(`/api/v1/memory?kind=${kind.value}&limit=500`)).memories;
    }
    renderTopics();
    render();
  } catch (err) { say(describe(err), { error: true }); }
}

async function loadPeople() {
  try {
    const found = (await get("/api/v1/people")).people;
    people.replaceChildren(...found.map((p) => el("button", {
      type: "button", class: "chip", title: [p.relation, p.location].filter(Boolean).join(", ") || null,
      onclick: () => { query.value = p.name; load(); },
    }, p.relation ? `${p.name} (${p.relation})` : p.name)));
    people.closest(".browse-row").hidden = found.length === 0;
  } catch { people.closest(".browse-row").hidden = true; }
}

searchForm.addEventListener("submit", (e) => { e.preventDefault(); load(); });
kind.addEventListener("change", () => { query.value = ""; load(); });
period.addEventListener("change", render);
document.getElementById("memory-clear").addEventListener("click", () => { query.value = ""; topic = null; load(); });

export function showMemories() {
  load();
  loadPeople();
}
