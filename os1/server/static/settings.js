// Settings: the model behind OS1, its name, voice, time zone, check-in times and quiet hours, your
// data (export it all, or delete everything), and signing out on a server with accounts.
import { call, describe, el, get, offers } from "./api.js";

const form = document.getElementById("settings-form");
const status = document.getElementById("settings-status");
const backend = document.getElementById("set-backend");
const openaiFields = document.getElementById("openai-fields");
const ggufFields = document.getElementById("gguf-fields");
const envNote = document.getElementById("env-note");
const keyNote = document.getElementById("key-note");
const voiceRow = document.getElementById("voice-row");
const voiceSelect = document.getElementById("set-voice");
const checkinsForm = document.getElementById("checkins-form");
const checkinsStatus = document.getElementById("checkins-status");
const renameForm = document.getElementById("rename-form");
const dataStatus = document.getElementById("data-status");
const exportLink = document.getElementById("export");
const deleteForm = document.getElementById("delete-form");

let app = null;

function say(node, text, error = false) {
  node.textContent = text;
  node.classList.toggle("error", error);
}

function fillBackend(s) {
  const builtins = s.models.filter((m) => !m.name.includes(":"));
  backend.replaceChildren(
    ...builtins.map((m) => el("option", { value: m.name }, `${m.name}: ${m.description}${m.ready ? "" : " (not ready)"}`)),
    el("option", { value: "openai" }, "An OpenAI-compatible server (Ollama, LM Studio, vLLM, OpenAI…)"),
    el("option", { value: "gguf" }, "A GGUF model file on this computer"));
  const model = s.model;
  if (model.startsWith("openai:")) {
    backend.value = "openai";
    const [name, url] = model.slice(7).split("@");
    form.elements.openai_model.value = name;
    form.elements.openai_base_url.value = url || s.openai_base_url;
  } else if (model.startsWith("gguf:")) {
    backend.value = "gguf";
    form.elements.gguf_path.value = model.slice(5);
    form.elements.openai_base_url.value = s.openai_base_url;
  } else {
    backend.value = model;
    form.elements.openai_base_url.value = s.openai_base_url;
  }
  keyNote.textContent = s.openai_api_key_set ? "A key is saved (it is never shown). Leave empty to keep it." : "No key saved. Local servers usually need none.";
  showBackendFields();
}

function showBackendFields() {
  openaiFields.hidden = backend.value !== "openai";
  ggufFields.hidden = backend.value !== "gguf";
}

function show(s) {
  fillBackend(s);
  form.elements.tz.value = s.tz || "";
  if (voiceSelect.options.length) voiceSelect.value = s.voice || "";
  const env = s.from_environment;
  envNote.hidden = env.length === 0;
  envNote.textContent = env.length
    ? `Set by environment variables (${env.map((k) => "OS1_" + k.toUpperCase()).join(", ")}): they win when OS1 restarts.` : "";
  if (s.restart_required.length) say(status, `Saved. ${s.restart_required.join(", ")} takes effect when OS1restarts.`.replace("OS1restarts", "OS1 restarts"));
}

async function loadVoices() {
  try {
    const body = await get("/api/v1/voices");
    const voices = Array.isArray(body) ? body : body.voices || [];
    voiceSelect.replaceChildren(el("option", { value: "" }, "The default voice"),
      ...voices.map((v) => el("option", { value: v.id }, [v.name, v.language, v.engine].filter(Boolean).join(" · "))));
    voiceRow.hidden = false;
  } catch { voiceRow.hidden = true; }
}

function fillZones() {
  const list = document.getElementById("zones");
  if (list.children.length || !Intl.supportedValuesOf) return;
  list.append(...Intl.supportedValuesOf("timeZone").map((z) => el("option", { value: z })));
}

async function load() {
  say(status, "");
  fillZones();
  try {
    await loadVoices();
    show(await get("/api/v1/settings"));
  } catch (err) { say(status, describe(err), true); }
  loadCheckins();
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = form.elements;
  const body = { tz: f.tz.value.trim() };
  if (backend.value === "openai") {
    body.model = `openai:${f.openai_model.value.trim()}`;
    body.openai_base_url = f.openai_base_url.value.trim();
    if (f.openai_api_key.value) body.openai_api_key = f.openai_api_key.value;
  } else if (backend.value === "gguf") {
    body.model = `gguf:${f.gguf_path.value.trim()}`;
  } else {
    body.model = backend.value;
  }
  if (!voiceRow.hidden) body.voice = voiceSelect.value;
  say(status, "Saving…");
  try {
    const s = await call("PUT", "/api/v1/settings", body);
    f.openai_api_key.value = "";
    show(s);
    if (!s.restart_required.length) say(status, "Saved.");
    app.refreshStatus();
  } catch (err) { say(status, describe(err), true); }
});
backend.addEventListener("change", showBackendFields);

renameForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = renameForm.elements.name.value.trim();
  try {
    const p = await call("POST", "/api/v1/profile/rename", { name });
    app.setName(p.companion_name);
    renameForm.reset();
    say(status, `I'm ${p.companion_name} now.`);
  } catch (err) { say(status, describe(err), true); }
});

// Check-ins and quiet hours (GET/PUT /api/v1/checkins) ---------------------------------------------
function showCheckins(c) {
  const f = checkinsForm.elements;
  f.enabled.checked = c.checkins !== false;
  f.morning.value = c.morning || "";
  f.evening.value = c.evening || "";
  f.quiet_start.value = c.quiet_hours?.start || "";
  f.quiet_end.value = c.quiet_hours?.end || "";
  f.nudges.checked = c.nudges !== false;
  f.max_per_day.value = c.max_per_day ?? 3;
  f.snooze.value = "";
  const until = c.snooze_until ? new Date(c.snooze_until) : null;
  document.getElementById("snooze-note").textContent = until && until > new Date()
    ? `Snoozed until ${until.toLocaleString(undefined, { weekday: "long", hour: "numeric", minute: "2-digit" })}.` : "";
}

function loadCheckins() {
  get("/api/v1/checkins").then((c) => {
    showCheckins(c);
    checkinsForm.hidden = false;
    say(checkinsStatus, "");
  }).catch((err) => {
    checkinsForm.hidden = true;
    say(checkinsStatus, err.unavailable ? "Check-ins aren't available on this server." : describe(err), !err.unavailable);
  });
}

checkinsForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = checkinsForm.elements;
  const body = {
    enabled: f.enabled.checked, morning: f.morning.value || "off", evening: f.evening.value || "off",
    quiet_hours: { start: f.quiet_start.value, end: f.quiet_end.value },
    nudges: f.nudges.checked, max_per_day: Number(f.max_per_day.value),
  };
  if (f.snooze.value) body.snooze = f.snooze.value;
  try {
    showCheckins(await call("PUT", "/api/v1/checkins", body));
    say(checkinsStatus, "Saved.");
  } catch (err) { say(checkinsStatus, describe(err), true); }
});

// Your data ----------------------------------------------------------------------------------------
async function loadData() {
  const [canExport, canDelete] = await Promise.all([offers("GET", "/api/v1/export"), offers("POST", "/api/v1/delete")]);
  exportLink.hidden = !canExport;
  deleteForm.hidden = !canDelete;
  const missing = [!canExport && "Export", !canDelete && "Deleting everything"].filter(Boolean);
  say(dataStatus, missing.length ? `${missing.join(" and ")} isn't available on this server yet.` : "");
}

deleteForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (deleteForm.elements.confirm.value.trim().toLowerCase() !== "delete everything") {
    say(dataStatus, 'Type "delete everything" to confirm.', true);
    return;
  }
  try {
    await call("POST", "/api/v1/delete", { confirm: "delete everything" });
    say(dataStatus, "Everything is deleted. Reloading…");
    setTimeout(() => location.reload(), 1500);
  } catch (err) {
    say(dataStatus, err.unavailable ? "Deleting everything isn't available on this server." : describe(err), true);
  }
});

// Signed in (a server with accounts): who you are, and signing out ------------------------------------
let accountCard = null;

async function loadAccount() {
  let me;
  try { me = await get("/api/v1/auth/me"); } catch { return; }
  accountCard?.remove();
  accountCard = null;
  if (me.via !== "session") return;
  const note = el("p", { class: "quiet", role: "status", "aria-live": "polite" });
  const signOut = el("button", { type: "button", class: "secondary", onclick: async () => {
    try {
      await call("POST", "/api/v1/auth/logout");
      location.assign("/login");
    } catch (err) { say(note, describe(err), true); }
  } }, "Sign out");
  accountCard = el("div", { class: "card stack" },
    el("p", {}, "Signed in as ", el("strong", {}, me.username), me.admin ? " (admin)" : ""),
    el("div", { class: "actions" }, signOut), note);
  document.getElementById("settings-title").after(accountCard);
}

export function showSettings(ctx) {
  app = ctx;
  load();
  loadData();
  loadAccount();
}
