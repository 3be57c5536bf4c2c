// Reminders and check-ins: the inbox of what OS1 brought up on its own, live over the WebSocket
// (with a browser notification when allowed), and the reminders you've set.
import { call, describe, el, get, when } from "./api.js";

const inboxList = document.getElementById("inbox-list");
const inboxStatus = document.getElementById("inbox-status");
const remindersList = document.getElementById("reminders-list");
const remindersStatus = document.getElementById("reminders-status");
const reminderForm = document.getElementById("reminder-form");
const notifyBtn = document.getElementById("notify");
const badge = document.getElementById("inbox-count");
const toasts = document.getElementById("toasts");

const textOf = (item) => item.text || "";
const isRead = (item) => Boolean(item.read);
let unread = 0;

function setUnread(n) {
  unread = Math.max(0, n);
  badge.textContent = unread ? String(unread) : "";
  badge.hidden = unread === 0;
  badge.setAttribute("aria-label", `${unread} unread`);
}

function inboxItem(item) {
  const li = el("li", { class: `inbox-item${isRead(item) ? " read" : ""}`, "data-id": item.id },
    item.kind ? el("span", { class: "badge" }, item.kind.replaceAll("_", " ")) : null,
    el("p", {}, textOf(item)),
    el("p", { class: "source" }, [when(item.created_at), item.why].filter(Boolean).join(" · ")));
  if (!isRead(item) && item.id !== undefined) {
    li.append(el("button", { type: "button", class: "secondary", onclick: async (e) => {
      try {
        await call("POST", `/api/v1/inbox/${encodeURIComponent(item.id)}/read`);
        li.classList.add("read");
        e.target.remove();
        setUnread(unread - 1);
      } catch (err) { inboxStatus.textContent = describe(err); }
    } }, "Mark read"));
  }
  return li;
}

export async function loadInbox() {
  try {
    const { items, unread: count } = await get("/api/v1/inbox");
    inboxList.replaceChildren(...items.map(inboxItem));
    setUnread(count);
    inboxStatus.textContent = items.length ? "" : "Nothing yet. When I think of you between conversations, it lands here.";
  } catch (err) {
    inboxStatus.textContent = err.unavailable ? "Check-ins aren't available on this server." : describe(err);
  }
}

function reminderItem(r) {
  const live = r.status === "active";
  const li = el("li", { class: `reminder${live ? "" : " read"}`, "data-id": r.id },
    el("p", {}, r.text),
    el("p", { class: "source" }, [r.repeat ? `${r.repeat}, next ${r.when}` : r.when, live ? null : r.status].filter(Boolean).join(" · ")));
  if (live) {
    li.append(el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => reschedule(r, li) }, "Change time"),
      el("button", { type: "button", class: "danger", onclick: () => cancel(r) }, "Cancel")));
  }
  return li;
}

function reschedule(r, li) {
  const id = `when-${r.id}`;
  const input = el("input", { id, name: "when", required: true, placeholder: "tomorrow at 9", value: r.when || "" });
  const form = el("form", { class: "edit" }, el("label", { for: id }, "New time, in words"), input,
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", onclick: () => form.remove() }, "Keep it")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const { confirmation } = await call("PATCH", `/api/v1/reminders/${encodeURIComponent(r.id)}`, { when: input.value });
      loadReminders(confirmation);
    } catch (err) { remindersStatus.textContent = describe(err); }
  });
  li.append(form);
  input.focus();
}

async function cancel(r) {
  try { await call("DELETE", `/api/v1/reminders/${encodeURIComponent(r.id)}`); loadReminders(); }
  catch (err) { remindersStatus.textContent = describe(err); }
}

export async function loadReminders(note = "") {
  try {
    const items = (await get("/api/v1/reminders")).reminders;
    remindersList.replaceChildren(...items.map(reminderItem));
    remindersStatus.textContent = note || (items.length ? "" : "No reminders. Add one here, or just ask me in conversation.");
    reminderForm.hidden = false;
  } catch (err) {
    reminderForm.hidden = err.unavailable;
    remindersStatus.textContent = err.unavailable ? "Reminders aren't available on this server." : describe(err);
  }
}

reminderForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(reminderForm);
  const text = String(data.get("text")).trim();
  const at = String(data.get("due_at") || "");
  // A picked time is this browser's local time: send it as an absolute instant.
  const body = at ? { task: text, due_at: new Date(at).toISOString() } : { text };
  try {
    const { confirmation } = await call("POST", "/api/v1/reminders", body);
    reminderForm.reset();
    loadReminders(confirmation);
  } catch (err) { remindersStatus.textContent = describe(err); }
});

// Live pushes ------------------------------------------------------------------------------------
function toast(text) {
  const t = el("div", { class: "toast", role: "status" }, text);
  toasts.append(t);
  setTimeout(() => t.remove(), 8000);
}

function notify(item) {
  const text = textOf(item);
  toast(text);
  if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
    new Notification(document.getElementById("companion-name").textContent, { body: text, tag: `os1-${item.id ?? Date.now()}` });
  }
}

function setUpNotifications() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  notifyBtn.hidden = false;
  notifyBtn.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyBtn.hidden = Notification.permission !== "default";
  });
}

/** Keep a WebSocket open for pushes; reconnect with back-off; tell the app when OS1 is (un)reachable. */
export function listen(onReachable) {
  let delay = 1000;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`);
    ws.addEventListener("open", () => { delay = 1000; onReachable(true); });
    ws.addEventListener("message", (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type !== "proactive") return;
      const item = msg;
      inboxList.prepend(inboxItem(item));
      inboxStatus.textContent = "";
      setUnread(unread + 1);
      notify(item);
      if (item.kind === "reminder" && !document.getElementById("inbox").hidden) loadReminders();
    });
    ws.addEventListener("close", () => {
      onReachable(false);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  connect();
  setUpNotifications();
}

export function showInbox() {
  loadInbox();
  loadReminders();
}
