// The conversation: history, the first meeting, streamed replies, what OS1 remembered for each reply.
import { actionCard } from "./actions.js";
import { describe, el, get, offers, stream } from "./api.js";

const log = document.getElementById("log");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const sendBtn = document.getElementById("send");
const stopBtn = document.getElementById("stop");
const voiceBtn = document.getElementById("voice");

let app = null;        // { setName, modelProblem, goTo }
let busy = null;       // the AbortController of the reply being streamed
let greetPending = false;  // the first greeting waits for the model

/** The model became ready: give the first-meeting greeting that had to wait. */
export function modelReady() {
  if (greetPending && !busy) {
    greetPending = false;
    streamInto("/api/v1/greet", null);
  }
}

function scrollDown(node) {
  node.scrollIntoView({ block: "end", behavior: "smooth" });
}

function bubble(role, text = "") {
  const body = el("div", { class: "text" }, text);
  const li = el("li", { class: `msg ${role}` }, body);
  log.append(li);
  scrollDown(li);
  return li;
}

function errorBubble(err, { retry } = {}) {
  const li = el("li", { class: "msg error", role: "alert" }, el("div", { class: "text" }, describe(err)));
  if (err && err.type === "ModelUnavailable") {
    li.append(el("button", { type: "button", class: "link", onclick: () => app.goTo("settings") }, "Choose another model"));
  }
  if (retry) li.append(el("button", { type: "button", class: "link", onclick: () => { li.remove(); retry(); } }, "Try again"));
  log.append(li);
  scrollDown(li);
}

function memoriesNote(memories) {
  const count = memories.length;
  const summary = count ? `What I remembered (${count})` : "What I remembered";
  const list = count
    ? el("ul", {}, memories.map((m) => el("li", {},
        el("span", { class: "mem-text" }, m.text),
        el("span", { class: "source" }, `${m.source} · ${m.ref}`))))
    : el("p", { class: "quiet" }, "Nothing from before came up for this reply.");
  return el("details", { class: "why" }, el("summary", {}, summary), list);
}

function safetyCard(ev) {
  return el("li", { class: "msg notice", role: "note" },
    el("div", { class: "text" }, el("strong", {}, ev.message)),
    el("ul", {}, ev.resources.map((r) => el("li", {}, r))));
}

/** An assistant bubble that fills in from reply events (text chat and voice alike). */
function replyView({ withMemories = true } = {}) {
  const li = bubble("assistant");
  li.setAttribute("aria-busy", "true");
  const text = li.querySelector(".text");
  let memories = [];
  return {
    li, text,
    handle(ev) {
      if (ev.type === "delta") { text.textContent += ev.text; scrollDown(li); }
      else if (ev.type === "recalled") memories = ev.memories;
      else if (ev.type === "safety") log.insertBefore(safetyCard(ev), li);
      else if (ev.type === "tool_proposed") {
        const card = actionCard(ev, { tag: "li" });
        card.classList.add("msg", "action");
        log.append(card);
      }
      else if (ev.type === "done") {
        text.textContent = ev.reply;
        if (ev.companion_name) app.setName(ev.companion_name);
      } else if (ev.type === "error") throw Object.assign(new Error(ev.error.message), ev.error);
    },
    finish() {
      li.removeAttribute("aria-busy");
      if (!text.textContent) li.remove();
      else if (withMemories) li.append(memoriesNote(memories));
    },
  };
}

/** Stream one reply (a turn or the greeting) into a new assistant bubble. */
async function streamInto(path, body) {
  const view = replyView({ withMemories: Boolean(body) });
  const controller = new AbortController();
  busy = controller;
  setBusy(true);
  try {
    await stream(path, body, (ev) => view.handle(ev), controller.signal);
    view.finish();  // an empty greeting (already met) leaves no bubble
  } catch (err) {
    if (controller.signal.aborted) {
      if (view.text.textContent) view.text.textContent += " …";
      view.finish();
    } else {
      view.li.removeAttribute("aria-busy");
      if (!view.text.textContent) view.li.remove();
      app.modelProblem();
      if (!body && err.type === "ModelUnavailable") greetPending = true;  // the banner says why; greet once ready
      else errorBubble(err, body ? { retry: () => sendText(body.message, { again: true }) } : {});
    }
  } finally {
    busy = null;
    setBusy(false);
  }
}

function setBusy(on) {
  sendBtn.hidden = on;
  stopBtn.hidden = !on;
  input.setAttribute("aria-busy", on ? "true" : "false");
}

async function sendText(text, { again = false } = {}) {
  if (!again) bubble("user", text);
  await streamInto("/api/v1/chat/stream", { message: text });
  input.focus();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || busy) return;
  input.value = "";
  sendText(text);
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
});
stopBtn.addEventListener("click", () => busy && busy.abort());
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && busy) busy.abort(); });

/** The voice button appears only when this server speaks (GET /api/v1/voices) and ships voice.js. */
async function setUpVoice() {
  if (!(await offers("GET", "/api/v1/voices"))) return;
  let voice;
  try { voice = await import("/static/voice.js"); } catch { return; }
  if (typeof voice.startVoice !== "function") return;
  voiceBtn.hidden = false;
  let session = null;
  let view = null;
  const label = voiceBtn.querySelector(".visually-hidden");
  const setState = (state) => {
    const on = state && state !== "closed";
    voiceBtn.setAttribute("aria-pressed", String(Boolean(on)));
    const words = { connecting: "Connecting…", listening: "Listening", hearing: "Hearing you", thinking: "Thinking", speaking: "Speaking" };
    label.textContent = on ? `${words[state] || state}: press to hang up` : "Talk with your voice";
    voiceBtn.title = label.textContent;
    if (!on) session = null;
  };
  const onEvent = (ev) => {
    try {
      if (ev.type === "state") setState(ev.state);
      else if (ev.type === "heard" && ev.final && ev.text) bubble("user", ev.text);
      else if (["recalled", "safety", "delta", "done"].includes(ev.type)) { view ||= replyView(); view.handle(ev); }
      else if (ev.type === "turn-done" || ev.type === "interrupted") {
        if (view && ev.type === "interrupted" && ev.spoken !== undefined) view.text.textContent = `${ev.spoken} …`;
        if (view) view.finish();
        view = null;
      } else if (ev.type === "error") errorBubble(Object.assign(new Error(ev.error.message), ev.error));
    } catch (err) { errorBubble(err); }
  };
  voiceBtn.addEventListener("click", async () => {
    if (session) { session.stop(); setState("closed"); return; }
    setState("connecting");
    try { session = await voice.startVoice({ onEvent }); }
    catch (err) { setState("closed"); errorBubble(err); }
  });
}

export async function startChat(ctx) {
  if (!app) setUpVoice();
  app = ctx;
  let profile, hist;
  try {
    [profile, hist] = await Promise.all([get("/api/v1/profile"), get("/api/v1/history?limit=100")]);
  } catch (err) {
    errorBubble(err, { retry: () => startChat(ctx) });
    return;
  }
  app.setName(profile.companion_name || "OS1");
  // Earlier messages go above anything already typed while they loaded.
  const typed = [...log.children];
  log.prepend(...hist.messages.map((m) => bubble(m.role, m.text)));
  if (profile.stage === "new" && hist.messages.length === 0 && typed.length === 0) {
    log.append(el("li", { class: "first-meeting" }, "This is the first time you've met."));
    await streamInto("/api/v1/greet", null);
  }
  input.focus();
}
