// The next-shift forecast as fan charts: what happened (the KPI history, solid), a "now" line,
// then the forecast's p10-p90 band (shaded) and its p50 (dashed), hour by hour.
// Data: GET /yards/{yard}/forecast and /corridor/forecast (docs/forecast.md): the worker's newest
// stored forecast, cut to FORECAST_HOURS.
"use strict";

const FORECAST_HOURS = 8;
const FORECAST_POLL_MS = 60000;

// history: [{t: Date, v}]; hours: [{start, <kpi>: {p10, p50, p90}}]; pick: hour -> band
function fanChart(svg, history, forecast, pick, options) {
  const opts = Object.assign({width: 320, height: 120, color: "#555"}, options || {});
  const pad = CHART_PAD;
  const now = new Date(forecast.now).getTime();
  const fan = forecast.hours.map((hour) => ({t: new Date(hour.start).getTime() + 1800e3, band: pick(hour)}))
    .filter((p) => p.band.p50 !== null);
  const past = history.filter((p) => Number.isFinite(p.v) && p.t.getTime() <= now && p.t.getTime() >= now - FORECAST_HOURS * 3600e3);
  if (!startChart(svg, opts, fan.length > 0, "no forecast yet")) return;
  const t0 = Math.min(now - 2 * 3600e3, ...past.map((p) => p.t.getTime()));
  const t1 = new Date(forecast.hours[forecast.hours.length - 1].start).getTime() + 3600e3;
  const top = niceMax(Math.max(...fan.map((p) => p.band.p90), ...past.map((p) => p.v), 0) * 1.1);
  const {x, y} = chartFrame(svg, opts, t0, t1, top);
  const upper = fan.map((p) => `${x(p.t).toFixed(1)},${y(p.band.p90).toFixed(1)}`);
  const lower = fan.slice().reverse().map((p) => `${x(p.t).toFixed(1)},${y(p.band.p10).toFixed(1)}`);
  svg.append(svgEl("polygon", {points: [...upper, ...lower].join(" "), class: "fan", fill: opts.color}));
  const middle = fan.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.band.p50).toFixed(1)}`).join(" ");
  svg.append(svgEl("path", {d: middle, class: "fan-p50", stroke: opts.color}));
  if (past.length) {
    const line = past.map((p, i) => `${i ? "L" : "M"}${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.append(svgEl("path", {d: line, class: "series", stroke: opts.color}));
  }
  svg.append(svgEl("line", {x1: x(now), x2: x(now), y1: pad.top, y2: opts.height - pad.bottom, class: "now-line"}));
  svg.append(svgEl("text", {x: x(now) + 2, y: pad.top + 8, class: "axis"}, "now"));
  svg.dataset.hours = String(fan.length);
  svg.dataset.now = forecast.now;
}

const FORECAST_CHARTS = [
  ["forecast-queue", (hour) => hour.gate_queue, (k) => k.gate_queue_len.mean],
  ["forecast-turn", (hour) => hour.turnaround_min, (k) => k.truck_turn_min.p50],
];

function drawForecast(target, forecast, history, color, width) {
  for (const [chart, pick, past] of FORECAST_CHARTS) {
    const svg = target.querySelector(`[data-chart=${chart}]`);
    if (!svg) continue;
    const points = (history || []).map((p) => ({t: new Date(p.as_of), v: past(p.kpis)}));
    if (forecast) fanChart(svg, points, forecast, pick, width ? {color, width} : {color});
    else svg.replaceChildren(svgEl("text", {x: 160, y: 60, "text-anchor": "middle", class: "empty"}, "no forecast yet"));
  }
  const risk = target.querySelector("[data-trains-at-risk]");
  if (risk && forecast) {
    risk.textContent = forecast.trains_at_risk.length
      ? `trains at risk: ${forecast.trains_at_risk.map((r) => `${r.train_id} (${Math.round(100 * r.late_share)} %)`).join(", ")}`
      : "no train at risk";
    const boxes = forecast.boxes_over_24h;
    if (boxes.p50 !== null) risk.textContent += ` · boxes over 24 h at +${forecast.horizon_h} h: ${formatNumber(boxes.p50, 0)} (${formatNumber(boxes.p10, 0)}–${formatNumber(boxes.p90, 0)})`;
    // the worker's forecast: from its watermark then, computed at a wall-clock time
    const utc = (iso) => new Date(iso).toISOString().slice(11, 16);
    risk.textContent += ` · forecast from ${utc(forecast.now)} UTC (event time), computed ${utc(forecast.computed_at)} UTC`;
  }
}

// fetchJson: the dashboard's api(); histories: scope -> KPI history points (may lack some)
async function refreshForecasts(fetchJson, yards, histories, colourOf) {
  const corridor = await fetchJson(`/corridor/forecast?hours=${FORECAST_HOURS}`);
  drawForecast(document.getElementById("corridor"), corridor, histories.corridor, "#444", 640);
  for (const yard of yards) {
    const forecast = await fetchJson(`/yards/${yard.id}/forecast?hours=${FORECAST_HOURS}`);
    drawForecast(document.querySelector(`.yard[data-scope="${yard.id}"]`), forecast, histories[yard.id], colourOf(yard));
  }
}
