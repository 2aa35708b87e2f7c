// The supervisors' pages: insights (/insights) and content gaps (/insights/gaps). Every figure comes from the JSON API
// (/api/insights, /api/insights/gaps) and is shown in a table, the exact numbers, each with its CSV download; when
// Chart.js could be loaded (/static/vendor/chart.umd.js, copied by `make console-assets`), some are drawn as charts
// too. Without it the page is the same, tables only. Text goes in with textContent (console.js's `el`), as
// everywhere in the console: a user's question in the content-gap tables is shown, never run.
"use strict";

const LANGUAGE_NAMES = { "en": "English", "zh-Hant": "Traditional Chinese", "zh-Hans": "Simplified Chinese" };
const LANGUAGE_COLOURS = { "en": "#1f6fb4", "zh-Hant": "#c0392b", "zh-Hans": "#2e8b57", "unknown": "#888888" };
const STATUS_COLOURS = { "eligible": "#2e8b57", "likely": "#8fbc8f", "unknown": "#bbbbbb", "not_eligible": "#c0392b" };
const OTHER_COLOURS = ["#1f6fb4", "#e67e22", "#8e44ad", "#16a085", "#7f8c8d"];
const DAY_COLUMNS = ["Day", "As of"];
const charts = [];

function hongKongToday() {
  // en-CA writes dates as YYYY-MM-DD; the figures' days are Hong Kong days whatever the browser's zone
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Hong_Kong" }).format(new Date());
}

function daysBefore(day, count) {
  const date = new Date(day + "T00:00:00Z");
  date.setUTCDate(date.getUTCDate() - count);
  return date.toISOString().slice(0, 10);
}

function languageName(code) {
  return LANGUAGE_NAMES[code] ? LANGUAGE_NAMES[code] + " (" + code + ")" : code;
}

function isShare(column) {
  return /rate|share/i.test(column);
}

function cellText(column, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number" && isShare(column)) return (value * 100).toFixed(1) + " %";
  return String(value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return Math.round(seconds) + " s";
  return minutes(seconds);  // console.js
}

function percent(share) {
  return share === null || share === undefined ? "—" : (share * 100).toFixed(1) + " %";
}

function tableSection(table, csvUrl) {
  const section = el("section");
  section.dataset.table = table.name;
  const head = el("div", null, "table-head");
  const link = el("a", "Download CSV");
  link.href = csvUrl;
  link.setAttribute("download", "");
  link.className = "csv";
  head.append(el("h2", table.title), link);
  const numeric = table.columns.map((_, i) => table.rows.length > 0
    && table.rows.every((row) => row[i] === null || typeof row[i] === "number"));
  const element = el("table");
  element.id = "table-" + table.name;
  const header = el("tr");
  table.columns.forEach((column, i) => header.append(el("th", column, numeric[i] ? "number" : null)));
  const thead = el("thead");
  thead.append(header);
  const tbody = el("tbody");
  for (const row of table.rows) {
    const line = el("tr");
    row.forEach((value, i) => {
      const column = table.columns[i];
      const text = column === "Language" ? languageName(String(value)) : cellText(column, value);
      const cell = el("td", text, numeric[i] ? "number" : (DAY_COLUMNS.includes(column) ? "day" : null));
      if (column === "Language") cell.dataset.language = String(value);
      line.append(cell);
    });
    tbody.append(line);
  }
  if (table.rows.length === 0) {
    const line = el("tr");
    const cell = el("td", "Nothing in this period.");
    cell.colSpan = table.columns.length;
    line.append(cell);
    tbody.append(line);
  }
  element.append(thead, tbody);
  section.append(head, element);
  return section;
}

function showTables(report, csvPath, params) {
  const sections = Object.values(report.tables).map((table) => {
    const query = new URLSearchParams(params);
    query.set("table", table.name);
    return tableSection(table, csvPath + "?" + query.toString());
  });
  document.getElementById("tables").replaceChildren(...sections);
}

function showSummary(summary) {
  const items = [
    ["Conversations", summary.conversations], ["Messages", summary.messages],
    ["Fallback rate", percent(summary.fallback_rate)], ["“Did you mean” rate", percent(summary.did_you_mean_rate)],
    ["Handoffs", summary.handoffs], ["Median wait", duration(summary.median_wait_seconds)],
    ["90th percentile wait", duration(summary.p90_wait_seconds)],
    ["Eligibility checks started", summary.eligibility_started],
    ["Eligibility checks finished", summary.eligibility_finished],
  ];
  document.getElementById("summary").replaceChildren(...items.map(([term, value]) => {
    const item = el("div");
    item.append(el("dt", term), el("dd", value));
    return item;
  }));
}

// --- charts (only when Chart.js is there) ----------------------------------------------------------------------

function chart(id, config) {
  const canvas = document.getElementById(id);
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
  charts.push(new window.Chart(canvas, config));
}

function stacked() {
  return { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } };
}

function byLanguage(series) {
  return Object.entries(series).map(([language, values]) => ({
    label: languageName(language), data: values, backgroundColor: LANGUAGE_COLOURS[language] || "#888888",
  }));
}

function drawCharts(report) {
  if (typeof window.Chart !== "function") return;  // the library is not installed: tables only
  while (charts.length) charts.pop().destroy();
  const series = report.series;
  chart("chart-messages", { type: "bar", options: stacked(),
    data: { labels: series.days, datasets: byLanguage(series.messages_by_language) } });
  chart("chart-conversations", { type: "bar", options: stacked(),
    data: { labels: series.days, datasets: byLanguage(series.conversations_by_language) } });
  const reasons = Object.keys(series.handoff_reasons);
  chart("chart-handoffs", { type: "bar",
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    data: { labels: reasons, datasets: [{ label: "Handoffs", data: reasons.map((r) => series.handoff_reasons[r]),
                                          backgroundColor: "#1f6fb4" }] } });
  const eligibility = series.eligibility_schemes;
  chart("chart-eligibility", { type: "bar", options: stacked(),
    data: { labels: Object.keys(eligibility.schemes), datasets: eligibility.statuses.map((status, i) => ({
      label: status, data: Object.values(eligibility.schemes).map((counts) => counts[i]),
      backgroundColor: STATUS_COLOURS[status] || OTHER_COLOURS[i % OTHER_COLOURS.length],
    })) } });
  document.getElementById("charts").hidden = false;
}

// --- the pages ---------------------------------------------------------------------------------------------------

function periodForm(load) {
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  const asked = new URLSearchParams(window.location.search);
  to.value = asked.get("to") || hongKongToday();
  from.value = asked.get("from") || daysBefore(to.value, 6);
  document.getElementById("period").addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch((problem) => say(problem.message));
  });
  for (const button of document.querySelectorAll("#period button[data-days]")) {
    button.addEventListener("click", () => {
      to.value = hongKongToday();
      from.value = daysBefore(to.value, Number(button.dataset.days) - 1);
      load().catch((problem) => say(problem.message));
    });
  }
  return () => ({ from: from.value, to: to.value });
}

function notePeriod(report, more) {
  let note = "From " + report.from + " to " + report.to + ", Hong Kong time." + (more ? " " + more : "");
  if (!report.analytics) {
    note += " No conversation analytics yet: the events consumer (talentbot events consume) has not stored any.";
  }
  document.getElementById("period-note").textContent = note;
}

function remember(params) {
  window.history.replaceState(null, "", window.location.pathname + "?" + new URLSearchParams(params).toString());
}

async function insightsPage() {
  await whoAmI();
  const period = periodForm(async () => {
    const params = period();
    say("Loading…");
    const report = await call("GET", "/api/insights?" + new URLSearchParams(params).toString());
    remember(params);
    notePeriod(report);
    showSummary(report.summary);
    showTables(report, "/api/insights.csv", params);
    drawCharts(report);
    say("");
    document.body.dataset.loaded = report.from + "/" + report.to;
  });
  await document.getElementById("period").requestSubmit();
}

async function gapsPage() {
  await whoAmI();
  const stale = document.getElementById("stale-days");
  stale.value = new URLSearchParams(window.location.search).get("stale_days") || "";
  const period = periodForm(async () => {
    const params = period();
    if (stale.value) params.stale_days = stale.value;
    say("Loading…");
    const report = await call("GET", "/api/insights/gaps?" + new URLSearchParams(params).toString());
    remember(params);
    stale.value = String(report.stale_days);
    notePeriod(report, report.misses + " messages not understood.");
    showTables(report, "/api/insights/gaps.csv", Object.assign({}, params, { stale_days: report.stale_days }));
    say("");
    document.body.dataset.loaded = report.from + "/" + report.to;
  });
  await document.getElementById("period").requestSubmit();
}

document.addEventListener("DOMContentLoaded", () => {
  const pages = { insights: insightsPage, gaps: gapsPage };
  const page = pages[document.body.dataset.page];
  if (page) Promise.resolve().then(page).catch((problem) => say(problem.message));
});
