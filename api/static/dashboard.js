// The operators' dashboard: each yard and the corridor, live from /stream/kpis.
// Everything comes from this service's API; nothing is fetched from anywhere else.
"use strict";

const DWELL_TARGET_H = 24;
const state = {window: "24h", yards: [], received: 0, refreshTimer: null, stream: null, histories: {}};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, {credentials: "same-origin", headers: {Accept: "application/json"}});
  if (response.status === 401) { showLogin(); throw new Error("unauthorised"); }
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function showLogin() {
  const form = document.getElementById("login");
  form.hidden = false;
  form.onsubmit = (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value;
    document.cookie = `corridor_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
    location.reload();
  };
}

function localTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false,
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}) + " (+08:00)";
}

function pct(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
}

function tile(kpi, label, value, unit, note, level) {
  return el("div", {class: `tile ${level || ""}`, "data-kpi": kpi, "data-value": value === null ? "" : String(value)},
    el("div", {class: "label"}, label),
    el("div", {class: "value"}, formatNumber(value), el("span", {class: "unit"}, unit)),
    el("div", {class: "note"}, note));
}

function bar(label, share) {
  const width = share === null || share === undefined ? 0 : Math.min(100, share * 100);
  const level = share > 0.9 ? "bad" : share > 0.75 ? "warn" : "ok";
  return el("div", {class: "bar-row", "data-kpi": `use-${label}`},
    el("span", {class: "bar-label"}, label),
    el("span", {class: "bar"}, el("span", {class: `fill ${level}`, style: `width:${width}%`})),
    el("span", {class: "bar-value"}, pct(share)));
}

function renderKpis(section, view) {
  const k = view.kpis;
  const dwell = k.dwell_h;
  const dwellLevel = dwell.mean === null ? "" : dwell.mean > DWELL_TARGET_H ? "bad" : dwell.mean > 0.8 * DWELL_TARGET_H ? "warn" : "ok";
  const use = el("div", {class: "tile use", "data-kpi": "utilisation"},
    el("div", {class: "label"}, "设备与插座 Equipment & plugs"),
    bar("gate", k.utilisation.gate), bar("handling", k.utilisation.handling),
    bar("plugs", k.utilisation.plugs), bar("stack", k.utilisation.stack));
  section.querySelector("[data-tiles]").replaceChildren(
    tile("dwell-mean", "堆存时间 Dwell mean", dwell.mean, " h",
      `target ${DWELL_TARGET_H} h · ${pct(dwell.share_within_24h)} within · p90 ${formatNumber(dwell.p90)} h`, dwellLevel),
    tile("turn-p50", "集卡周转 Truck turnaround p50", k.truck_turn_min.p50, " min",
      `p95 ${formatNumber(k.truck_turn_min.p95)} min · ${formatNumber(k.trucks)} trucks`),
    tile("queue-mean", "闸口排队 Gate queue", k.gate_queue_len.mean, " trucks",
      `max ${formatNumber(k.gate_queue_len.max)} · wait p95 ${formatNumber(k.gate_wait_min.p95)} min`),
    tile("teu-per-day", "吞吐 Throughput", k.throughput.teu_per_day, " TEU/day",
      `in ${formatNumber(k.throughput.teu_in)} · out ${formatNumber(k.throughput.teu_out)} · ${formatNumber(k.throughput.lifts)} lifts`),
    use,
    tile("reefer-excursions", "冷藏箱 Reefer excursions", k.reefer.excursions, "",
      `${formatNumber(k.reefer.excursion_minutes)} min · ${formatNumber(k.reefer.readings)} readings`,
      k.reefer.excursions > 0 ? "warn" : "ok"));
  renderDwellStages(section.querySelector("[data-stages]"), k);
  const asOf = section.querySelector("[data-field=as_of]");
  asOf.textContent = `${view.window} to ${localTime(view.as_of)}`;
  section.dataset.asOf = view.as_of;
}

function renderNoKpis(section) {
  section.querySelector("[data-tiles]").replaceChildren(
    el("p", {class: "muted"}, `no ${state.window} KPI snapshot yet — is the twin worker running?`));
  renderDwellStages(section.querySelector("[data-stages]"), null);
}

function renderState(article, detail) {
  article.querySelector("[data-field=clock]").textContent = localTime(detail.clock);
  const s = detail.state;
  const now = article.querySelector("[data-now]");
  if (!s) { now.replaceChildren(el("p", {class: "muted"}, "no live state yet")); return; }
  const train = s.next_trains[0];
  const item = (kpi, label, value) => el("div", {class: "now-item", "data-kpi": kpi}, el("span", {class: "label"}, label), el("b", {}, value));
  now.replaceChildren(
    item("gate-queue-now", "gate queue now", `${s.gate_queue} + ${s.exception_queue} manual`),
    item("trucks-now", "trucks in yard", s.trucks_in_yard),
    item("stack-now", "stack", `${formatNumber(s.stack_teu)} / ${formatNumber(s.stack_capacity_teu)} TEU`),
    item("plugs-now", "plugs", `${s.plugs_in_use} / ${s.reefer_plugs}` + (s.reefers_waiting_for_plug ? ` (+${s.reefers_waiting_for_plug} waiting)` : "")),
    item("handling-now", "cranes busy", `${s.handling_busy} / ${s.handling_capacity}`),
    item("next-train", "next train", train ? `${train.train_id} ${localTime(train.departure)} · ${train.booked_teu}/${train.capacity_teu} TEU` : "—"));
}

function renderAlarms(article, reefers) {
  const box = article.querySelector("[data-alarms]");
  const rows = reefers.slice(0, 6).map((r) => el("li", {},
    el("code", {}, r.container_id), ` ${formatNumber(r.supply_c)}°C (set ${formatNumber(r.setpoint_c)}°C)`,
    r.power === "off" ? " · power off" : "", r.alarms.length ? ` · ${r.alarms.join(", ")}` : "",
    r.in_excursion ? " · excursion" : ""));
  box.dataset.count = String(reefers.length);
  box.className = `alarms ${reefers.length ? "bad" : "ok"}`;
  box.replaceChildren(el("div", {class: "label"}, `冷藏箱告警 Open reefer alarms: ${reefers.length}`),
    rows.length ? el("ul", {}, ...rows) : el("span", {class: "muted"}, "none"));
}

async function history(scope) {
  const base = scope === "corridor" ? "/corridor/kpis/history" : `/yards/${scope}/kpis/history`;
  for (const window of ["1h", state.window]) {
    const data = await api(`${base}?window=${window}&interval=1h`);
    if (data && data.points.length) return data.points;
  }
  return [];
}

function series(points, pick) {
  return points.map((p) => ({t: new Date(p.as_of), v: pick(p.kpis)}));
}

async function refreshCharts() {
  const histories = {};
  for (const yard of state.yards) histories[yard.id] = await history(yard.id);
  const corridor = await history("corridor");
  state.histories = {...histories, corridor};
  for (const yard of state.yards) {
    const article = document.querySelector(`.yard[data-scope="${yard.id}"]`);
    const pts = histories[yard.id];
    const color = yardColour(yard);
    lineChart(article.querySelector("[data-chart=dwell]"), [{color, points: series(pts, (k) => k.dwell_h.mean)}], {target: DWELL_TARGET_H});
    lineChart(article.querySelector("[data-chart=turn]"), [{color, points: series(pts, (k) => k.truck_turn_min.p50)}]);
    lineChart(article.querySelector("[data-chart=queue]"), [{color, points: series(pts, (k) => k.gate_queue_len.mean)}]);
    lineChart(article.querySelector("[data-chart=teu]"), [{color, points: series(pts, (k) => k.throughput.teu_per_day)}]);
  }
  const section = document.getElementById("corridor");
  lineChart(section.querySelector("[data-chart=dwell]"), state.yards.map((yard) => ({
    color: yardColour(yard), points: series(histories[yard.id], (k) => k.dwell_h.mean)})), {target: DWELL_TARGET_H, width: 640});
  lineChart(section.querySelector("[data-chart=turn]"), [{color: "#444", points: series(corridor, (k) => k.truck_turn_min.p50)}], {width: 640});
}

async function refreshKpis() {
  const corridor = await api(`/corridor/kpis?window=${state.window}`);
  const section = document.getElementById("corridor");
  if (corridor) renderKpis(section, corridor); else renderNoKpis(section);
  for (const yard of state.yards) {
    const view = await api(`/yards/${yard.id}/kpis?window=${state.window}`);
    const article = document.querySelector(`.yard[data-scope="${yard.id}"]`);
    if (view) renderKpis(article, view); else renderNoKpis(article);
  }
}

async function refreshYards() {
  renderOverdue(document.querySelector("#corridor [data-overdue]"), await api("/boxes/overdue?limit=12"), 12);
  for (const yard of state.yards) {
    const article = document.querySelector(`.yard[data-scope="${yard.id}"]`);
    const detail = await api(`/yards/${yard.id}`);
    if (detail) renderState(article, detail);
    const alarms = await api(`/yards/${yard.id}/reefers?status=alarm`);
    const excursions = await api(`/yards/${yard.id}/reefers?status=excursion`);
    const seen = new Map();
    for (const r of [...(alarms ? alarms.reefers : []), ...(excursions ? excursions.reefers : [])]) seen.set(r.container_id, r);
    renderAlarms(article, [...seen.values()]);
    await refreshBreaches(article, yard.id);
    renderOverdue(article.querySelector("[data-overdue]"), await api(`/yards/${yard.id}/boxes/overdue?limit=8`), 8);
  }
}

function scheduleRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(async () => {
    state.refreshTimer = null;
    try { await refreshYards(); await refreshCharts(); } catch (error) { console.warn(error); }
  }, 800);
}

// The stream only carries snapshots: whether the data is live is freshness.js's call (/ready).
function connectStream() {
  const stream = new EventSource("/stream/kpis");
  state.stream = stream;
  stream.addEventListener("snapshot", (event) => {
    const view = JSON.parse(event.data);
    state.received += 1;
    document.getElementById("live-count").textContent = String(state.received);
    if (view.window === state.window) {
      const target = view.scope === "corridor" ? document.getElementById("corridor")
        : document.querySelector(`.yard[data-scope="${view.scope}"]`);
      if (target && !(target.dataset.asOf > view.as_of)) renderKpis(target, view);  // never older
    }
    scheduleRefresh();
    pollStatusSoon();
  });
  stream.onerror = () => {
    // The browser retries a dropped connection itself, but gives up on an error answer
    // (a 503 while the API restarts): then open a new one a little later.
    if (stream.readyState === EventSource.CLOSED) setTimeout(connectStream, STATUS_POLL_MS);
  };
}

async function refreshAll() {
  try { await refreshKpis(); await refreshYards(); await refreshCharts(); } catch (error) { console.warn(error); }
  await refreshForecastsQuietly();
}

// A forecast is computed at most once per 15 min of event time (docs/forecast.md): poll slowly.
async function refreshForecastsQuietly() {
  try { await refreshForecasts(api, state.yards, state.histories, yardColour); } catch (error) { console.warn(error); }
}

// Until `load` succeeds, waiting longer after each failure (the API may be restarting).
async function retrying(load) {
  for (let wait = 1000; ; wait = Math.min(2 * wait, 15000)) {
    try { return await load(); } catch (error) { console.warn(error); }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// Yards, their names and colours come from GET /yards (one station file per yard), never from
// a list here, so a yard added as a station file appears without touching the dashboard.
function yardColour(yard) {
  return yard.colour || "#555";
}

function renderYardNames() {
  document.getElementById("yard-names").textContent =
    state.yards.map((yard) => `${yard.name_zh} ${yard.name_en}`).join(" · ");
}

function buildYards() {
  const template = document.getElementById("yard-template");
  const container = document.getElementById("yards");
  for (const yard of state.yards) {
    const article = template.content.firstElementChild.cloneNode(true);
    article.dataset.scope = yard.id;
    article.style.setProperty("--yard-color", yardColour(yard));
    article.querySelector(".zh").textContent = yard.name_zh;
    article.querySelector(".en").textContent = yard.name_en;
    container.append(article);
  }
  const legend = document.querySelector("#corridor [data-legend]");
  legend.replaceChildren(...state.yards.map((yard) =>
    el("span", {style: `color:${yardColour(yard)}`}, `${yard.name_zh} ${yard.name_en}`)));
}

async function main() {
  startStatus(() => { if (document.body.dataset.ready) refreshAll(); });
  state.yards = await retrying(() => api("/yards"));
  renderYardNames();
  buildYards();
  document.getElementById("window").addEventListener("change", async (event) => {
    state.window = event.target.value;
    try { await refreshKpis(); } catch (error) { console.warn(error); }
  });
  connectStream();  // first, so no snapshot stored while the page loads is missed
  await refreshAll();
  setInterval(refreshForecastsQuietly, FORECAST_POLL_MS);
  document.body.dataset.ready = "true";
}

main().catch((error) => console.error(error));
