// OS1 in the browser: plain ES modules, no build step. This module wires the sections together and
// keeps the header's status honest (loading the model, ready, unavailable, offline).
import { showActions } from "./actions.js";
import { get } from "./api.js";
import { modelReady, startChat } from "./chat.js";
import { listen, loadInbox, showInbox } from "./inbox.js";
import { showLetters } from "./letters.js";
import { showMemories } from "./memories.js";
import { showMood } from "./mood.js";
import { showSettings } from "./settings.js";

const statusEl = document.getElementById("status");
const banner = document.getElementById("banner");
const nameEls = document.querySelectorAll(".companion-name");
const SECTIONS = {
  talk: null, memories: showMemories, mood: showMood, letters: showLetters,
  inbox: () => { showActions(); showInbox(); }, settings: () => showSettings(ctx),
};

let state = "connecting";
let timer = null;

const ctx = {
  setName(name) {
    for (const n of nameEls) n.textContent = name;
    document.title = `${name} · OS1`;
  },
  modelProblem() { refreshStatus(); },
  refreshStatus() { refreshStatus(); },
  goTo(section) { location.hash = section; },
};

function setStatus(next, text, detail = "") {
  if (next === "ready" && state !== "ready") modelReady();
  state = next;
  document.body.dataset.state = next;
  statusEl.textContent = text;
  banner.hidden = !detail;
  banner.replaceChildren();
  if (detail) {
    banner.append(detail);
    if (next === "unavailable") {
      const a = document.createElement("a");
      a.href = "#settings";
      a.textContent = "Choose another model in Settings";
      banner.append(" ", a);
    }
  }
}

async function refreshStatus() {
  clearTimeout(timer);
  try {
    const h = await get("/api/v1/health");
    if (h.model_state === "ready") setStatus("ready", "Here with you");
    else if (h.model_state === "loading") setStatus("loading", "Waking up…", "Loading the model. The first reply may take a moment.");
    else {
      const e = h.model_error || {};
      setStatus("unavailable", "Model unavailable", `${e.message || "The model can't be used."} ${e.hint || ""}`.trim());
    }
  } catch {
    setStatus("offline", "Offline", "Can't reach OS1. Is `os1 serve` still running? Trying again…");
  }
  timer = setTimeout(refreshStatus, state === "ready" ? 30000 : 2000);
}

function route(event) {
  const name = (location.hash.slice(1) || "talk").split("/")[0];
  const section = name in SECTIONS ? name : "talk";
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== section;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${section}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  SECTIONS[section]?.();
  if (!event) return;  // the first load: the conversation puts the cursor in the message box
  if (section === "talk") document.getElementById("message").focus();
  else document.querySelector(`#${section} h2`)?.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
window.addEventListener("online", refreshStatus);
window.addEventListener("offline", () => setStatus("offline", "Offline", "This device is offline."));

refreshStatus();
route();
startChat(ctx);
loadInbox();
listen((reachable) => { if (reachable !== (state !== "offline")) refreshStatus(); });
