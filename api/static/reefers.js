// Reefers heading out of their band, most urgent first: each yard's reefers whose estimated
// cargo temperature leaves setpoint ± threshold on its present course (power off, waiting for
// a plug, or over already), from /yards/{yard}/reefers?order=urgency, with the minutes left.
"use strict";

const BREACH_LISTED = 6;  // rows shown per yard
const BREACH_SOON_MIN = 60;  // under this, a row is marked urgent

function breachText(minutes) {
  if (minutes <= 0) return "breached";
  if (minutes < 120) return `${Math.round(minutes)} min`;
  return `${(minutes / 60).toFixed(1)} h`;
}

function renderBreaches(article, list) {
  const box = article.querySelector("[data-breach]");
  const heading = (list ? list.reefers : []).filter((r) => typeof r.minutes_to_breach === "number");
  const rows = heading.slice(0, BREACH_LISTED).map((r) => el("li",
    {"data-container": r.container_id, "data-minutes": String(r.minutes_to_breach),
      class: r.minutes_to_breach < BREACH_SOON_MIN ? "urgent" : ""},
    el("code", {}, r.container_id), ` ${breachText(r.minutes_to_breach)}`,
    ` · est. ${formatNumber(r.estimated_cargo_c)}°C (set ${formatNumber(r.setpoint_c)}°C)`,
    r.power === "off" ? " · power off" : "", r.plugged ? "" : " · no plug"));
  box.dataset.count = String(heading.length);
  box.className = `breach ${heading.some((r) => r.minutes_to_breach < BREACH_SOON_MIN) ? "bad" : "ok"}`;
  box.replaceChildren(el("div", {class: "label"}, `冷藏箱超温倒计时 Reefer time to breach: ${heading.length}`),
    rows.length ? el("ol", {}, ...rows) : el("span", {class: "muted"}, "none heading out of band"));
}

async function refreshBreaches(article, yardId) {
  renderBreaches(article, await api(`/yards/${yardId}/reefers?order=urgency`));
}
