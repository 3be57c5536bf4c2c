// How you've seemed over time (an SVG chart drawn here: no chart library), OS1's journal, and its self.
import { call, describe, el, get, when } from "./api.js";

const chart = document.getElementById("mood-chart");
const range = document.getElementById("mood-days");
const moodStatus = document.getElementById("mood-status");
const moodTable = document.getElementById("mood-table");
const journalList = document.getElementById("journal-list");
const journalStatus = document.getElementById("journal-status");
const writeBtn = document.getElementById("journal-write");
const selfBox = document.getElementById("self");

const SVG = "http://www.w3.org/2000/svg";
const H = 240, PAD = { l: 56, r: 16, t: 16, b: 36 };
let W = 640;            // the chart's width in CSS pixels, so its text stays readable at phone width
let lastDrawn = null;   // the last data drawn, to redraw when the width changes

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function dayLabel(iso, long = false) {
  const d = new Date(iso + "T12:00:00");
  return d.toLocaleDateString(undefined, long ? { weekday: "long", month: "long", day: "numeric" } : { month: "short", day: "numeric" });
}

/** Valence per day as a line over the chosen window; dot size grows with how much was said that day. */
export function drawMood(days, span) {
  lastDrawn = [days, span];
  W = Math.max(300, Math.round(chart.getBoundingClientRect().width) || 640);
  chart.replaceChildren();
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  // The window ends today, or on the last day with messages if OS1's clock is ahead (OS1_NOW).
  const end = new Date(); end.setHours(12, 0, 0, 0);
  const last = days.length ? new Date(days.at(-1).day + "T12:00:00") : end;
  if (last > end) end.setTime(last.getTime());
  const start = new Date(end.getTime() - (span - 1) * 86400000);
  const x = (iso) => PAD.l + ((new Date(iso + "T12:00:00") - start) / Math.max(1, end - start)) * (W - PAD.l - PAD.r);
  const y = (v) => PAD.t + (1 - (v + 1) / 2) * (H - PAD.t - PAD.b);

  chart.append(svg("title", {}, "How you've seemed, day by day"));
  const summary = days.length
    ? `${days.length} days with messages. Average mood ${avg(days).toFixed(2)} on a scale from -1 (heavy) to +1 (light).`
    : "No days with messages in this period.";
  chart.append(svg("desc", {}, summary));
  for (const [v, label] of [[1, "lighter"], [0, "even"], [-1, "heavier"]]) {
    chart.append(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: v === 0 ? "axis zero" : "axis" }));
    chart.append(svg("text", { x: PAD.l - 8, y: y(v) + 4, class: "tick", "text-anchor": "end" }, label));
  }
  // Date ticks: the ends, and a few evenly spaced between them.
  const ticks = W < 480 ? 2 : 4;
  for (let i = 0; i <= ticks; i++) {
    const iso = isoDay(new Date(start.getTime() + ((end - start) * i) / ticks));
    const anchor = i === 0 ? "start" : i === ticks ? "end" : "middle";
    chart.append(svg("text", { x: x(iso), y: H - 10, class: "tick", "text-anchor": anchor }, dayLabel(iso)));
  }
  if (days.length > 1) {
    const area = `M ${x(days[0].day)} ${y(0)} ` + days.map((d) => `L ${x(d.day)} ${y(d.valence)}`).join(" ") + ` L ${x(days.at(-1).day)} ${y(0)} Z`;
    chart.append(svg("path", { d: area, class: "mood-area" }));
    chart.append(svg("polyline", { points: days.map((d) => `${x(d.day)},${y(d.valence)}`).join(" "), class: "mood-line" }));
  }
  const most = Math.max(1, ...days.map((d) => d.messages));
  for (const d of days) {
    const dot = svg("circle", { cx: x(d.day), cy: y(d.valence), r: 4 + 5 * Math.sqrt(d.messages / most),
      class: d.valence >= 0 ? "dot light" : "dot heavy", "data-day": d.day });
    dot.append(svg("title", {}, `${dayLabel(d.day, true)}: ${d.top.join(", ") || "neutral"} (${d.valence.toFixed(2)}), ${d.messages} messages`));
    chart.append(dot);
  }
  chart.setAttribute("aria-label", summary);
  // The same numbers as a table, for screen readers and anyone who prefers them.
  moodTable.querySelector("tbody").replaceChildren(...days.map((d) => el("tr", {},
    el("td", {}, dayLabel(d.day, true)), el("td", {}, d.top.join(", ") || "neutral"),
    el("td", {}, d.valence.toFixed(2)), el("td", {}, String(d.messages)))));
}

function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function avg(days) {
  return days.reduce((s, d) => s + d.valence, 0) / Math.max(1, days.length);
}

async function loadMood() {
  const span = Number(range.value);
  moodStatus.textContent = "Loading…";
  try {
    const { days } = await get(`/api/v1/mood?days=${span}`);
    drawMood(days, span);
    moodStatus.textContent = days.length ? "" : "Nothing to show yet: your mood appears here as we talk.";
  } catch (err) { moodStatus.textContent = describe(err); }
}

function change(c) {
  const what = c.kind === "opinion" ? `${c.topic}: “${c.old_stance ?? "—"}” → “${c.new_stance}”`
    : `${c.topic}: ${c.old_weight ?? 0} → ${c.new_weight}`;
  return el("li", { class: c.reverted ? "reverted" : null }, what, el("span", { class: "source" }, ` (${c.reason})`),
    c.reverted ? el("span", { class: "badge" }, "undone") : el("button", {
      type: "button", class: "link", onclick: async (e) => {
        try { await call("POST", `/api/v1/self/changes/${c.id}/revert`); loadJournal(); }
        catch (err) { e.target.replaceWith(describe(err)); }
      },
    }, "Undo"));
}

async function loadJournal() {
  journalStatus.textContent = "Loading…";
  try {
    const [{ entries }, me] = await Promise.all([get("/api/v1/journal?limit=50"), get("/api/v1/self")]);
    journalList.replaceChildren(...entries.map((e) => el("li", { class: "entry" },
      el("p", { class: "source" }, when(e.created_at)),
      el("p", {}, e.text),
      e.changes.length ? el("ul", { class: "changes" }, e.changes.map(change)) : null)));
    journalStatus.textContent = entries.length ? "" : "No entries yet: I write one after every few conversations.";
    selfBox.replaceChildren(
      el("p", {}, el("strong", {}, "Lately I feel "), me.mood || "—", me.curious_about ? `, and I'm curious about ${me.curious_about}.` : "."),
      me.interests.length ? el("p", {}, el("strong", {}, "Interested in: "), me.interests.map((i) => i.topic).join(", ")) : null,
      me.opinions.length ? el("ul", {}, me.opinions.map((o) => el("li", {}, `${o.topic}: ${o.stance}`))) : null);
  } catch (err) { journalStatus.textContent = describe(err); }
}

writeBtn.addEventListener("click", async () => {
  writeBtn.disabled = true;
  journalStatus.textContent = "Writing…";
  try {
    const { entry } = await call("POST", "/api/v1/journal");
    await loadJournal();
    if (!entry) journalStatus.textContent = "Nothing new to write about yet.";
  } catch (err) { journalStatus.textContent = describe(err); }
  finally { writeBtn.disabled = false; }
});
range.addEventListener("change", loadMood);
new ResizeObserver(() => {
  if (lastDrawn && Math.abs(chart.getBoundingClientRect().width - W) > 8) drawMood(...lastDrawn);
}).observe(chart);

export function showMood() {
  loadMood();
  loadJournal();
}
