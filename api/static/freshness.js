// Whether the figures can be trusted now: the data's age (event time and wall time of the newest
// snapshot), the twin worker's state and lag, the dead letters by reason, and the one word an
// operator reads first — live, stale or offline.
// "live" comes only from /ready (a worker running and a snapshot younger than the stale bound,
// see docs/api.md); an open event stream proves nothing about the worker behind it. Ages keep
// counting between polls, on the server's clock, so data goes stale on time even when the API
// stops answering; the page keeps what it shows, marks it, and keeps asking in the background.
"use strict";

const STATUS_POLL_MS = 5000;
const status = {ready: null, receivedAt: 0, reachable: null, onBack: null, pollTimer: null};

// Dead-letter reason codes (streams/dead_letters.py) in words; the code itself is shown too,
// as it is what the worker's log and the dead-letter topic's headers say.
const DEAD_LETTER_WORDS = [
  ["oversized", "消息过大 message too large"],
  ["not_utf8", "非 UTF-8 文本 not UTF-8 text"],
  ["not_json", "非 JSON not JSON"],
  ["duplicate", "重复事件 duplicate event"],
  ["invalid:", "字段无效 invalid field"],
  ["rejected:", "孪生拒收 refused by the twin"],
  ["internal:", "处理出错 processing error"],
];

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

// Seconds from `iso` to now, measured on the server's clock (its `checked_at`, plus the time
// this page has waited since), so a wrong clock on the operator's PC changes nothing.
function secondsSince(iso) {
  const checkedAt = Date.parse(status.ready.freshness.checked_at);
  return (checkedAt - Date.parse(iso)) / 1000 + (performance.now() - status.receivedAt) / 1000;
}

function verdict() {
  if (status.reachable === false) {
    return {level: "offline", word: "离线 offline", why: "API 无法连接 the API does not answer — retrying"};
  }
  const ready = status.ready;
  if (!ready) return {level: "unknown", word: "connecting…", why: "waiting for /ready"};
  if (!ready.freshness) return {level: "stale", word: "已过期 stale", why: `数据库不可用 database ${ready.database}`};
  const fresh = ready.freshness;
  const running = ready.workers.some((worker) => worker.running);
  if (!fresh.last_snapshot_computed_at) return {level: "stale", word: "无数据 no data", why: "no KPI snapshot yet"};
  const age = secondsSince(fresh.last_snapshot_computed_at);
  if (fresh.live && running && age <= fresh.stale_after_s) return {level: "live", word: "实时 live", why: ""};
  const why = !ready.workers.length ? "孪生进程未运行 no twin worker has reported"
    : !running ? "孪生进程已停止 the twin worker has stopped"
    : `最新快照已过期 no new snapshot for ${duration(age)}`;
  return {level: "stale", word: "已过期 stale", why};
}

function renderDataAge(box) {
  const fresh = status.ready && status.ready.freshness;
  if (!fresh || !fresh.last_snapshot_computed_at) {
    box.replaceChildren(el("span", {class: "muted"}, "no KPI snapshot yet"));
    return;
  }
  const age = secondsSince(fresh.last_snapshot_computed_at);
  box.dataset.ageS = String(Math.round(age));
  box.replaceChildren(
    el("div", {"data-field": "event-time"}, "事件时间 event time ", el("b", {}, localTime(fresh.last_snapshot_as_of))),
    el("div", {"data-field": "wall-time"}, "计算于 computed ", el("b", {}, localTime(fresh.last_snapshot_computed_at)),
      ` · ${duration(age)} ago`),
    el("div", {class: "muted"}, `stale after ${duration(fresh.stale_after_s)}`));
}

function renderWorkers(list) {
  const workers = status.ready ? status.ready.workers : [];
  if (!workers.length) {
    list.replaceChildren(el("li", {class: "muted"}, status.ready ? "no worker has committed yet" : "—"));
    return;
  }
  list.replaceChildren(...workers.map((worker) => el("li", {class: worker.running ? "ok" : "bad", "data-group": worker.group},
    el("b", {}, worker.running ? "运行中 running" : "已停止 stopped"), ` ${worker.group}`,
    el("div", {class: "muted"}, `积压 lag ${worker.lag === null ? "unknown" : `${worker.lag} messages`}`
      + ` · last commit ${duration(secondsSince(worker.committed_at))} ago`
      + ` · event time ${localTime(worker.last_event_time)}`))));
}

function deadLetterWords(reason) {
  const match = DEAD_LETTER_WORDS.find(([prefix]) => reason === prefix || (prefix.endsWith(":") && reason.startsWith(prefix)));
  return match ? match[1] : "other";
}

function renderDeadLetters(summary) {
  const box = document.querySelector("[data-status=dead-letters]");
  box.querySelector("[data-field=dead-letter-total]").textContent = String(summary.total);
  box.className = `status-box ${summary.total ? "warn" : "ok"}`;
  const rows = summary.reasons.map((r) => el("li", {"data-reason": r.reason, "data-count": String(r.count)},
    el("b", {}, String(r.count)), " ", deadLetterWords(r.reason), " ", el("code", {}, r.reason)));
  box.querySelector("[data-field=dead-letter-reasons]").replaceChildren(
    ...(rows.length ? rows : [el("li", {class: "muted"}, "none")]));
}

function renderStatus() {
  const {level, word, why} = verdict();
  document.body.dataset.freshness = level;
  document.getElementById("live").className = `live ${level === "live" ? "on" : level}`;
  document.getElementById("live-text").textContent = word;
  const banner = document.getElementById("stale-banner");
  banner.hidden = level === "live" || level === "unknown";
  const fresh = status.ready && status.ready.freshness;
  const asOf = fresh && fresh.last_snapshot_as_of ? ` 下列数字截至 The figures below are as of ${localTime(fresh.last_snapshot_as_of)} (event time).` : "";
  banner.textContent = `⚠ ${word}: ${why}.${asOf}`;
  renderDataAge(document.querySelector("[data-status=data] [data-field=data-age]"));
  renderWorkers(document.querySelector("[data-status=worker] [data-field=workers]"));
}

async function pollStatus() {
  try {
    const response = await fetch("/ready", {credentials: "same-origin", headers: {Accept: "application/json"}});
    const ready = await response.json();  // a 503 is an answer too: the database is down
    const wasDown = status.reachable === false;
    Object.assign(status, {ready, receivedAt: performance.now(), reachable: true});
    if (wasDown && status.onBack) status.onBack();
    const letters = await api("/dead-letters");
    if (letters) renderDeadLetters(letters);
  } catch (error) {
    if (!(error instanceof TypeError)) console.warn(error);  // TypeError: no answer at all
    if (error instanceof TypeError || error instanceof SyntaxError) status.reachable = false;
  }
  renderStatus();
}

// After a new snapshot: look again shortly (once, however many snapshots arrive meanwhile).
function pollStatusSoon() {
  if (status.pollTimer) return;
  status.pollTimer = setTimeout(() => { status.pollTimer = null; pollStatus(); }, 300);
}

// Poll /ready from now on; `onBack` runs when the API answers again after an outage.
function startStatus(onBack) {
  status.onBack = onBack;
  pollStatus();
  setInterval(pollStatus, STATUS_POLL_MS);
  setInterval(renderStatus, 1000);
}
