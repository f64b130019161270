// Small inline-SVG line charts: no library, nothing fetched from elsewhere.
// lineChart(svg, series, options) draws one or more series of {t: Date, v: number|null}
// points on a shared time axis, with an optional horizontal target line.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

function hourLabel(date) {
  return date.toLocaleTimeString("zh-CN", {hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai"});
}

const CHART_PAD = {left: 34, right: 8, top: 8, bottom: 18};

// An empty chart of opts.width x opts.height; false (with a note drawn) when there is nothing.
function startChart(svg, opts, hasData, emptyNote) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${opts.width} ${opts.height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  if (!hasData) {
    svg.append(svgEl("text", {x: opts.width / 2, y: opts.height / 2, "text-anchor": "middle", class: "empty"}, emptyNote));
  }
  return hasData;
}

// The axes of a chart over [t0, t1] x [0, top]: grid, value and time labels; returns the scales.
function chartFrame(svg, opts, t0, t1, top) {
  const pad = CHART_PAD;
  const plotW = opts.width - pad.left - pad.right;
  const plotH = opts.height - pad.top - pad.bottom;
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v) => pad.top + plotH - (v / top) * plotH;
  for (const frac of [0, 0.5, 1]) {
    const value = top * frac;
    svg.append(svgEl("line", {x1: pad.left, x2: opts.width - pad.right, y1: y(value), y2: y(value), class: "grid"}));
    const digits = top < 1 ? 2 : top < 10 ? 1 : 0;
    svg.append(svgEl("text", {x: pad.left - 4, y: y(value) + 3, "text-anchor": "end", class: "axis"}, formatNumber(value, digits)));
  }
  svg.append(svgEl("text", {x: pad.left, y: opts.height - 4, class: "axis"}, hourLabel(new Date(t0))));
  svg.append(svgEl("text", {x: opts.width - pad.right, y: opts.height - 4, "text-anchor": "end", class: "axis"}, hourLabel(new Date(t1))));
  return {x, y};
}

// series: [{name, color, points: [{t, v}]}]; options: {target, unit, height}
function lineChart(svg, series, options) {
  const opts = Object.assign({width: 320, height: 120, target: null}, options || {});
  const pad = CHART_PAD;
  const points = series.flatMap((s) => s.points.filter((p) => p.v !== null && p.v !== undefined));
  if (!startChart(svg, opts, points.length > 0, "no data yet")) return;
  const times = points.map((p) => p.t.getTime());
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 === t0) { t0 -= 1800e3; t1 += 1800e3; }
  const top = niceMax(Math.max(...points.map((p) => p.v), opts.target || 0) * 1.1);
  const {x, y} = chartFrame(svg, opts, t0, t1, top);
  if (opts.target !== null) {
    svg.append(svgEl("line", {x1: pad.left, x2: opts.width - pad.right, y1: y(opts.target), y2: y(opts.target), class: "target"}));
    svg.append(svgEl("text", {x: opts.width - pad.right - 2, y: y(opts.target) - 3, "text-anchor": "end", class: "target-label"}, `target ${opts.target}`));
  }
  for (const s of series) {
    const valid = s.points.filter((p) => p.v !== null && p.v !== undefined);
    if (valid.length === 0) continue;
    const path = valid.map((p, i) => `${i ? "L" : "M"}${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.append(svgEl("path", {d: path, class: "series", stroke: s.color}));
    const last = valid[valid.length - 1];
    svg.append(svgEl("circle", {cx: x(last.t.getTime()), cy: y(last.v), r: 2.5, fill: s.color}));
  }
  svg.dataset.points = String(points.length);
}

function formatNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const d = digits === undefined ? (Math.abs(value) >= 100 ? 0 : 1) : digits;
  return Number(value).toLocaleString("en-US", {maximumFractionDigits: d, minimumFractionDigits: 0});
}
