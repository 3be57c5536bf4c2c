// Letters: write your own or ask for a first draft in your voice, proofread with suggestions you accept
// or reject one by one, and export a letter (or all of them, as a book) to PDF or Markdown.
import { call, describe, el, get, when } from "./api.js";

const $ = (id) => document.getElementById(id);
const listEl = $("letters-list");
const listStatus = $("letters-status");
const askForm = $("letter-ask");
const editor = $("letter-editor");
const fields = { title: $("letter-title"), recipient: $("letter-recipient"), body: $("letter-body"), final: $("letter-final") };
const editorStatus = $("letter-status");
const suggestionsEl = $("suggestions");
const suggestionsTitle = $("suggestions-title");
const deleteBtn = $("letter-delete");
const bookLinks = $("letters-book");

let current = null;   // the letter open in the editor, as last saved
let dirty = false;
const CONTEXT = 30;   // characters shown either side of a suggested edit

function api(path = "") {
  return `/api/v1/letters${path}`;
}

function letterItem(letter) {
  const words = letter.body.trim() ? letter.body.trim().split(/\s+/).length : 0;
  return el("li", { class: "letter-item", "data-id": letter.id },
    el("p", {}, el("button", { type: "button", class: "link title", onclick: () => openLetter(letter.id) }, letter.title || "Untitled"),
      letter.status === "final" ? el("span", { class: "badge" }, "finished") : el("span", { class: "badge draft" }, "draft")),
    el("p", { class: "source" }, [letter.recipient ? `To ${letter.recipient}` : null, `${words} words`,
      `changed ${when(letter.updated_at)}`].filter(Boolean).join(" · ")));
}

export async function loadLetters(note = "") {
  try {
    const { letters } = await get(api());
    listEl.replaceChildren(...letters.map(letterItem));
    bookLinks.hidden = letters.length === 0;
    listStatus.textContent = note || (letters.length ? "" : "No letters yet. Start one, or tell me who it's for and what you want to say.");
    askForm.hidden = false;
  } catch (err) {
    askForm.hidden = err.unavailable;
    bookLinks.hidden = true;
    listStatus.textContent = err.unavailable ? "Letters aren't available on this server." : describe(err);
  }
}

function showEditor(on) {
  editor.hidden = !on;
  listEl.hidden = on;
  askForm.hidden = on;
  bookLinks.hidden = on || listEl.children.length === 0;
  $("letter-new").hidden = on;
}

function fill(letter) {
  current = letter;
  fields.title.value = letter.title || "";
  fields.recipient.value = letter.recipient || "";
  fields.body.value = letter.body;
  fields.final.checked = letter.status === "final";
  $("letter-pdf").href = api(`/${letter.id}/export?format=pdf`);
  $("letter-md").href = api(`/${letter.id}/export?format=md`);
  dirty = false;
  resetDelete();
}

function suggestionItem(s) {
  const body = current.body;
  const flat = (t) => t.replace(/\s+/g, " ");
  const before = flat(body.slice(Math.max(0, s.start - CONTEXT), s.start));
  const after = flat(body.slice(s.end, s.end + CONTEXT));
  const li = el("li", { class: "suggestion", "data-id": s.id, "data-kind": s.kind },
    el("p", { class: "in-context" }, s.start > CONTEXT ? "…" : "", before,
      el("del", {}, s.original), el("ins", {}, s.replacement), after, s.end + CONTEXT < body.length ? "…" : ""),
    el("p", { class: "source" }, [s.reason, s.kind, s.source === "model" ? "suggested by the model" : null].filter(Boolean).join(" · ")),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "accept", onclick: () => decide(s, "accept") }, "Accept"),
      el("button", { type: "button", class: "secondary reject", onclick: () => decide(s, "reject") }, "Reject")));
  return li;
}

function showSuggestions(items) {
  suggestionsEl.replaceChildren(...items.map(suggestionItem));
  suggestionsTitle.hidden = items.length === 0;
}

async function openLetter(id, note = "") {
  try {
    const { letter, suggestions } = await get(api(`/${encodeURIComponent(id)}`));
    fill(letter);
    showSuggestions(suggestions);
    showEditor(true);
    editorStatus.textContent = note;
    if (location.hash !== `#letters/${letter.id}`) history.replaceState(null, "", `#letters/${letter.id}`);
    fields.body.focus({ preventScroll: true });
  } catch (err) {
    listStatus.textContent = describe(err);
  }
}

function closeEditor() {
  current = null;
  showEditor(false);
  history.replaceState(null, "", "#letters");
  loadLetters();
}

async function save() {
  const patch = { title: fields.title.value.trim() || "Untitled", recipient: fields.recipient.value.trim() || null,
                  body: fields.body.value, status: fields.final.checked ? "final" : "draft" };
  const { letter } = await call("PATCH", api(`/${current.id}`), patch);
  const textChanged = letter.body !== current.body;
  fill(letter);
  if (textChanged) showSuggestions([]);  // the server marks suggestions for the old text stale
  return textChanged;
}

async function decide(s, verb) {
  if (dirty) {
    editorStatus.textContent = "You've changed the text since these suggestions. Save, then proofread again.";
    return;
  }
  try {
    const { letter } = await call("POST", api(`/${current.id}/suggestions/${s.id}/${verb}`));
    fill(letter);
    const { suggestions } = await get(api(`/${current.id}/suggestions`));
    showSuggestions(suggestions);
    editorStatus.textContent = verb === "accept" ? `Changed “${s.original}” to “${s.replacement}”.` : "Left as you wrote it.";
  } catch (err) { editorStatus.textContent = describe(err); }
}

function resetDelete() {
  deleteBtn.textContent = "Delete";
  delete deleteBtn.dataset.armed;
}

editor.addEventListener("input", () => { dirty = true; });
editor.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const changed = await save();
    editorStatus.textContent = changed ? "Saved. Proofread again to check the new text." : "Saved.";
  } catch (err) { editorStatus.textContent = describe(err); }
});

$("letter-proofread").addEventListener("click", async (e) => {
  const btn = e.currentTarget;
  btn.disabled = true;
  editorStatus.textContent = "Reading it through…";
  try {
    if (dirty) await save();
    const { suggestions } = await call("POST", api(`/${current.id}/proofread`));
    showSuggestions(suggestions);
    editorStatus.textContent = suggestions.length
      ? `${suggestions.length} suggestion${suggestions.length === 1 ? "" : "s"}: accept or reject each.`
      : "I found nothing to change.";
  } catch (err) { editorStatus.textContent = describe(err); }
  finally { btn.disabled = false; }
});

$("letter-close").addEventListener("click", closeEditor);

// Two presses, not a dialog: the first asks, the second deletes.
deleteBtn.addEventListener("click", async () => {
  if (!deleteBtn.dataset.armed) {
    deleteBtn.dataset.armed = "1";
    deleteBtn.textContent = "Press again to delete";
    return;
  }
  try {
    await call("DELETE", api(`/${current.id}`));
    const title = current.title;
    current = null;
    showEditor(false);
    history.replaceState(null, "", "#letters");
    loadLetters(`Deleted “${title}”.`);
  } catch (err) { editorStatus.textContent = describe(err); resetDelete(); }
});

$("letter-new").addEventListener("click", async () => {
  try {
    const { letter } = await call("POST", api(), { title: "Untitled", body: "" });
    await openLetter(letter.id);
    fields.title.select();
  } catch (err) { listStatus.textContent = describe(err); }
});

askForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(askForm);
  const btn = askForm.querySelector("button[type=submit]");
  btn.disabled = true;
  listStatus.textContent = "Writing a first draft in your voice…";
  try {
    const recipient = String(data.get("recipient") || "").trim();
    const { letter } = await call("POST", api(), { ask: String(data.get("ask")).trim(), recipient: recipient || null });
    askForm.reset();
    listStatus.textContent = "";
    await openLetter(letter.id, "Here's a first draft. Change anything; it's yours.");
  } catch (err) { listStatus.textContent = describe(err); }
  finally { btn.disabled = false; }
});

/** The Letters page: the list, or one letter when the address says #letters/ID. */
export function showLetters() {
  const id = location.hash.split("/")[1];
  if (id && /^\d+$/.test(id)) {
    if (!current || String(current.id) !== id) openLetter(id);
    return;
  }
  if (current) closeEditor();
  else loadLetters();
}
