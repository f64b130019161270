// Dwell against the one-day target: where the hours go (the snapshot's dwell_h.stages, a stacked
// bar per direction against the 24 h line) and the boxes over 24 h now (/boxes/overdue), oldest
// first, each with the stage it is in. A field the snapshot does not carry is shown as "—".
"use strict";

const STAGES = {
  gate_to_stack: {label: "进场至堆存 gate to stack", color: "#a0aec0"},
  waiting_for_inspection: {label: "待查验 waiting for inspection", color: "#f6ad55"},
  inspection: {label: "查验 inspection", color: "#dd6b20"},
  waiting_for_train: {label: "待班列 waiting for train", color: "#4299e1"},
  loading: {label: "装车 loading", color: "#2c5282"},
  waiting_for_unloading: {label: "待卸车 waiting for unloading", color: "#9f7aea"},
  waiting_for_pickup: {label: "待提箱 waiting for pickup", color: "#38a169"},
};
const DIRECTIONS = [["export", "出口 export"], ["import", "进口 import"]];
const TARGET_H = 24;

// The nodes that exist (replaceChildren would write a null as the text "null").
function present(...nodes) {
  return nodes.filter((node) => node !== null && node !== undefined);
}

function stageLabel(stage) {
  return (STAGES[stage] || {label: stage}).label;
}

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

// {direction: {stage: hours}} from a KPI block, or null when the snapshot has none.
function stagesOf(kpis) {
  const stages = kpis && kpis.dwell_h ? kpis.dwell_h.stages : null;
  return stages && typeof stages === "object" ? stages : null;
}

function bottleneckText(bottleneck) {
  if (bottleneck === null || bottleneck === undefined) return "—";
  if (typeof bottleneck === "string") return stageLabel(bottleneck);
  if (typeof bottleneck !== "object") return String(bottleneck);
  if (typeof bottleneck.stage === "string") {
    const share = isNumber(bottleneck.share) ? ` ${pct(bottleneck.share)}` : "";
    return stageLabel(bottleneck.stage) + share;
  }
  const parts = DIRECTIONS.filter(([key]) => bottleneck[key] !== undefined && bottleneck[key] !== null)
    .map(([key, name]) => `${name}: ${bottleneckText(bottleneck[key])}`);
  return parts.length ? parts.join(" · ") : "—";
}

// One stacked bar per direction, hours on a shared scale, the 24 h target as a dashed line.
function stageChart(stages) {
  const rows = DIRECTIONS.filter(([key]) => stages[key] && typeof stages[key] === "object");
  const totals = rows.map(([key]) => Object.values(stages[key]).filter(isNumber).reduce((a, b) => a + b, 0));
  const top = niceMax(Math.max(TARGET_H * 1.2, ...totals) * 1.05);
  const width = 400, rowH = 18, gap = 8, left = 74, right = 44, height = rows.length * (rowH + gap) + 16;
  const x = (hours) => left + (hours / top) * (width - left - right);
  const svg = svgEl("svg", {viewBox: `0 0 ${width} ${height}`, "data-chart": "stages", role: "img"});
  rows.forEach(([key, name], index) => {
    const y = 4 + index * (rowH + gap);
    const group = svgEl("g", {"data-direction": key, "data-total": totals[index].toFixed(3)});
    group.append(svgEl("text", {x: left - 4, y: y + rowH - 5, "text-anchor": "end", class: "axis"}, name));
    let start = 0;
    for (const [stage, hours] of Object.entries(stages[key])) {
      if (!isNumber(hours) || hours <= 0) continue;
      const rect = svgEl("rect", {x: x(start), y, width: Math.max(0.5, x(start + hours) - x(start)), height: rowH,
        fill: (STAGES[stage] || {color: "#718096"}).color, "data-stage": stage, "data-hours": String(hours)});
      rect.append(svgEl("title", {}, `${stageLabel(stage)}: ${formatNumber(hours)} h`));
      group.append(rect);
      start += hours;
    }
    group.append(svgEl("text", {x: x(start) + 3, y: y + rowH - 5, class: "axis"}, `${formatNumber(start)} h`));
    svg.append(group);
  });
  const bottom = height - 12;
  svg.append(svgEl("line", {x1: x(TARGET_H), x2: x(TARGET_H), y1: 0, y2: bottom, class: "target", "data-target-h": String(TARGET_H)}));
  svg.append(svgEl("text", {x: x(TARGET_H), y: height - 2, "text-anchor": "middle", class: "target-label"}, `${TARGET_H} h`));
  return svg;
}

function stageLegend(stages) {
  const seen = new Set(DIRECTIONS.flatMap(([key]) => Object.keys(stages[key] || {})));
  return el("div", {class: "stage-legend"}, ...[...seen].map((stage) =>
    el("span", {}, el("i", {style: `background:${(STAGES[stage] || {color: "#718096"}).color}`}), stageLabel(stage))));
}

function inYardText(dwell) {
  const now = dwell ? dwell.in_yard : null;
  if (!now || typeof now !== "object") return "—";
  const age = now.age_h || {};
  return `${formatNumber(now.boxes)} boxes · ${formatNumber(now.over_24h)} over 24 h · age p90 ${formatNumber(age.p90)} h, max ${formatNumber(age.max)} h`;
}

// The snapshot's dwell figures that count every box: in the yard now, the stages, the bottleneck.
function renderDwellStages(container, kpis) {
  if (!container) return;
  const dwell = kpis ? kpis.dwell_h : null;
  const stages = stagesOf(kpis);
  const departed = dwell && isNumber(dwell.share_within_24h_departed) ? pct(dwell.share_within_24h_departed) : "—";
  const facts = el("div", {class: "dwell-facts"},
    el("span", {"data-field": "in-yard"}, `在场 in yard (window end): ${inYardText(dwell)}`),
    el("span", {"data-field": "departed-share"}, `departed within 24 h: ${departed}`),
    el("span", {"data-field": "bottleneck"}, `瓶颈 bottleneck: ${bottleneckText(dwell ? dwell.bottleneck : null)}`));
  container.dataset.state = stages ? "shown" : "absent";
  container.replaceChildren(...present(
    el("div", {class: "label"}, "堆存时间去向 Where the hours go (mean h per stage) vs 24 h"),
    stages ? stageChart(stages) : el("span", {class: "muted", "data-field": "stages-empty"}, "—"),
    stages ? stageLegend(stages) : null,
    facts));
}

function ageText(hours) {
  return hours >= 48 ? `${formatNumber(hours / 24)} d` : `${formatNumber(hours)} h`;
}

// The API's list of boxes over 24 h now (null: not available), the first `shown` of them.
function renderOverdue(container, list, shown) {
  if (!container) return;
  if (!list) {
    container.dataset.total = "";
    container.replaceChildren(el("div", {class: "label"}, "在场超 24 h Boxes over 24 h now: —"));
    return;
  }
  container.dataset.total = String(list.total);
  container.className = `overdue ${list.total ? "warn" : "ok"}`;
  const split = Object.entries(list.by_stage).sort((a, b) => b[1] - a[1])
    .map(([stage, count]) => `${stageLabel(stage)} ${count}`).join(" · ");
  const rows = list.boxes.slice(0, shown).map((box) => el("li",
    {"data-container": box.container_id, "data-stage": box.stage, "data-age-h": String(box.age_h)},
    el("code", {}, box.container_id), list.yard ? "" : ` ${box.yard}`,
    el("b", {}, ` ${ageText(box.age_h)}`), ` ${stageLabel(box.stage)}`,
    el("span", {class: "muted"}, ` · ${box.direction}${box.reefer ? " ❄ reefer" : ""}${box.train_id ? ` · ${box.train_id}` : ""}`)));
  container.replaceChildren(...present(
    el("div", {class: "label"}, `在场超 24 h Boxes over 24 h now: ${list.total}`, split ? el("span", {class: "muted"}, ` (${split})`) : null),
    rows.length ? el("ol", {}, ...rows) : el("span", {class: "muted"}, "none"),
    list.total > rows.length ? el("div", {class: "muted"}, `… and ${list.total - rows.length} more (oldest shown)`) : null));
}
