// Actions that wait for your yes (send, delete, forward…): each shows exactly what will happen, and
// nothing happens until you press Confirm. Shown in the conversation where OS1 proposes them, and as a
// list on the Inbox page.
import { call, describe, el, get, when } from "./api.js";

const list = document.getElementById("actions-list");
const status = document.getElementById("actions-status");

const RISK_WORDS = { send: "Sends", delete: "Deletes", write: "Changes", spend: "Spends", read: "Reads" };

/** One pending action as a card with Confirm / Decline; `onDecided(result)` after either. */
export function actionCard(action, { onDecided, tag = "div" } = {}) {
  const id = action.id ?? action.action_id;
  const note = el("p", { class: "quiet", role: "status", "aria-live": "polite" });
  const buttons = el("div", { class: "actions" });
  const card = el(tag, { class: "action-card", "data-action-id": id, "data-risk": action.risk || "" },
    el("p", {}, el("span", { class: `badge risk-${action.risk || "write"}` }, RISK_WORDS[action.risk] || action.risk || "Action"),
      " ", el("strong", {}, "Waiting for your yes")),
    el("p", { class: "action-summary" }, action.summary),
    (action.warnings || []).length ? el("ul", { class: "warnings" }, action.warnings.map((w) => el("li", {}, w))) : null,
    action.expires_at ? el("p", { class: "source" }, `Asked ${when(action.created_at)} · expires ${when(action.expires_at)}`) : null,
    buttons, note);
  const decide = async (verb) => {
    for (const b of buttons.querySelectorAll("button")) b.disabled = true;
    try {
      const r = await call("POST", `/api/v1/actions/${encodeURIComponent(id)}/${verb}`);
      card.dataset.status = r.status;
      buttons.remove();
      note.textContent = r.summary || (verb === "confirm" ? "Done." : "Nothing was done.");
      onDecided?.(r);
    } catch (err) {
      for (const b of buttons.querySelectorAll("button")) b.disabled = false;
      note.textContent = describe(err);
    }
  };
  buttons.append(
    el("button", { type: "button", class: "confirm", onclick: () => decide("confirm") }, "Confirm"),
    el("button", { type: "button", class: "secondary decline", onclick: () => decide("decline") }, "Decline"));
  return card;
}

/** The Inbox page's list of everything still waiting. */
export async function showActions() {
  try {
    const { actions } = await get("/api/v1/actions");
    list.replaceChildren(...actions.map((a) => actionCard(a, { tag: "li", onDecided: () => setTimeout(showActions, 1500) })));
    status.textContent = actions.length ? "" : "Nothing is waiting for your yes.";
  } catch (err) {
    list.replaceChildren();
    status.textContent = err.unavailable ? "Mail and calendar tools aren't available on this server." : describe(err);
  }
}
