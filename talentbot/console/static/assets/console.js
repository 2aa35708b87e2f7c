// Staff console pages. They use only the JSON API under /api (the same one scripts use) and insert every piece of
// text with textContent, so a message containing HTML or <script> is shown as those characters, never run.
"use strict";

const state = { me: null, leaving: false };

// Back to the log-in page, once: a log-out both ends the event stream ("ended") and answers the click, and a
// second navigation to the same page would abort the first.
function toLogin() {
  if (state.leaving) return;
  state.leaving = true;
  window.location.assign("/login");
}

// Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder the text around them:
// "\u202Egnp.exe" would read as "exe.png". Text from users is shown with each of them as a visible code instead.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

function visible(text) {
  return String(text).replace(BIDI_CONTROLS, (c) => "[U+" + c.codePointAt(0).toString(16).toUpperCase() + "]");
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = visible(text);
  if (className) node.className = className;
  return node;
}

function say(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = visible(text || "");
}

async function call(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (state.me) headers["X-CSRF-Token"] = state.me.csrf_token;
  }
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  if (response.status === 401 && document.body.dataset.page !== "login") {
    toLogin();
    throw new Error("not logged in");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
  return data;
}

function minutes(seconds) {
  const whole = Math.floor(seconds / 60);
  return whole < 60 ? whole + " min" : Math.floor(whole / 60) + " h " + (whole % 60) + " min";
}

async function whoAmI() {
  state.me = await call("GET", "/api/me");
  const who = document.getElementById("who");
  if (who) who.textContent = state.me.username + " (" + state.me.role + ")";
}

function listen(onMessage, onQueue) {
  const source = new EventSource("/api/events");
  source.addEventListener("message", (event) => onMessage && onMessage(JSON.parse(event.data)));
  source.addEventListener("queue", () => onQueue && onQueue());
  // the server ends the stream when the session ends (log-out elsewhere, expiry): back to the log-in page
  source.addEventListener("ended", () => { source.close(); toLogin(); });
  return source;
}

// --- log-in ---------------------------------------------------------------------------------------------------

function loginPage() {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await call("POST", "/api/login", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      });
      window.location.assign("/");
    } catch (problem) {
      say(problem.message);
    }
  });
}

// --- queue ----------------------------------------------------------------------------------------------------

function ticketRow(ticket, second) {
  const row = el("tr");
  if (ticket.overdue) row.className = "overdue";
  row.dataset.ticketId = String(ticket.id);
  row.append(el("td", ticket.id), el("td", second), el("td", ticket.language), el("td", ticket.channel),
             el("td", ticket.reason));
  const cell = el("td");
  const link = el("a", "Open");
  link.href = "/tickets/" + encodeURIComponent(ticket.id);
  cell.append(link);
  row.append(cell);
  return row;
}

async function refreshQueue() {
  const [waiting, assigned] = await Promise.all([
    call("GET", "/api/tickets?status=waiting"), call("GET", "/api/tickets?status=assigned")]);
  document.querySelector("#waiting tbody").replaceChildren(
    ...waiting.map((ticket) => ticketRow(ticket, minutes(ticket.waiting_seconds))));
  document.querySelector("#assigned tbody").replaceChildren(
    ...assigned.map((ticket) => ticketRow(ticket, ticket.assignee)));
  if (state.me.role === "supervisor") {
    const stats = await call("GET", "/api/stats");
    const list = document.getElementById("stats-list");
    const median = stats.median_wait_seconds === null ? "—" : minutes(stats.median_wait_seconds);
    const items = [["Waiting", stats.waiting], ["Assigned", stats.assigned], ["Resolved today", stats.resolved_today],
                   ["Median wait", median], ["Unclaimed too long", stats.overdue]];
    for (const [reason, count] of Object.entries(stats.per_reason)) items.push(["Reason: " + reason, count]);
    list.replaceChildren(...items.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
    document.getElementById("stats").hidden = false;
    document.getElementById("insights-link").hidden = false;  // the figures' own pages (insights.js)
    document.getElementById("review-link").hidden = false;  // what the assistant did not understand (review.js)
  }
}

async function queuePage() {
  await whoAmI();
  document.getElementById("logout").addEventListener("click", async () => {
    await call("POST", "/api/logout");
    toLogin();
  });
  await refreshQueue();
  listen(null, () => refreshQueue().catch((problem) => say(problem.message)));
  setInterval(() => refreshQueue().catch(() => {}), 30000);  // waiting times and overdue flags move with the clock
}

// --- ticket ---------------------------------------------------------------------------------------------------

function turn(sender, text, meta) {
  const item = el("li", null, sender);
  item.append(el("span", meta, "meta"), el("span", text));
  return item;
}

function messageItem(message) {
  const who = message.sender === "staff" ? (message.author || "staff") : message.sender;
  const flag = message.sender === "staff" && message.delivered === false ? " · not delivered" : "";
  const item = turn(message.sender, message.text, who + " · " + message.created_at + flag);
  item.dataset.messageId = String(message.id);
  return item;
}

async function ticketPage() {
  await whoAmI();
  const id = Number(window.location.pathname.split("/").pop());
  const messages = document.getElementById("messages");
  const show = (ticket) => {
    document.getElementById("title").textContent = "Ticket " + ticket.id + " · " + ticket.status;
    const facts = [["Language", ticket.language], ["Channel", ticket.channel], ["Reason", ticket.reason],
                   ["Assignee", ticket.assignee || "—"], ["Asked", ticket.summary],
                   ["Schemes", (ticket.schemes || []).join(", ")], ["Topics", (ticket.topics || []).join(", ")]];
    document.getElementById("facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
    document.getElementById("claim").hidden = ticket.status !== "waiting";
    const mine = ticket.status === "assigned" && (ticket.assignee === state.me.username || state.me.role === "supervisor");
    document.getElementById("reply-form").hidden = !mine;
    document.getElementById("transfer-form").hidden = !mine;
    document.getElementById("resolve").hidden = ticket.status === "resolved" || (!mine && state.me.role !== "supervisor");
  };
  const ticket = await call("GET", "/api/tickets/" + id);
  show(ticket);
  if (ticket.transcript_error) say(ticket.transcript_error);
  document.getElementById("transcript").replaceChildren(
    ...ticket.transcript.map((t) => turn(t.sender, t.text, t.sender + (t.timestamp ? " · " + t.timestamp : ""))));
  messages.replaceChildren(...ticket.messages.map(messageItem));
  const saved = document.getElementById("saved");
  for (const [name, text] of Object.entries(ticket.saved_replies)) {
    const option = el("option", name);
    option.value = text;
    saved.append(option);
  }
  saved.addEventListener("change", () => { if (saved.value) document.getElementById("reply").value = saved.value; });
  const staffList = await call("GET", "/api/staff");
  document.getElementById("transfer-to").replaceChildren(...staffList
    .filter((user) => user.username !== state.me.username)
    .map((user) => { const option = el("option", user.username + " (" + user.role + ")"); option.value = user.username; return option; }));

  const act = async (path, body) => {
    try { show(Object.assign(ticket, await call("POST", path, body))); say(""); } catch (problem) { say(problem.message); }
  };
  document.getElementById("claim").addEventListener("click", () => act("/api/tickets/" + id + "/claim"));
  document.getElementById("resolve").addEventListener("click", () => act("/api/tickets/" + id + "/resolve"));
  document.getElementById("transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("/api/tickets/" + id + "/transfer", { username: document.getElementById("transfer-to").value });
  });
  document.getElementById("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = document.getElementById("reply");
    try {
      await call("POST", "/api/tickets/" + id + "/messages", { text: box.value });
      box.value = "";
      say("");
    } catch (problem) {
      say(problem.message);
    }
  });
  listen((message) => {
    if (message.ticket_id !== id || messages.querySelector('[data-message-id="' + message.id + '"]')) return;
    messages.append(messageItem(message));
  }, async () => show(Object.assign(ticket, await call("GET", "/api/tickets/" + id))));
}

document.addEventListener("DOMContentLoaded", () => {
  const pages = { login: loginPage, queue: queuePage, ticket: ticketPage };
  const page = pages[document.body.dataset.page];
  // through a promise, so a page function that returns nothing (the log-in page's) needs no .catch of its own
  if (page) Promise.resolve().then(page).catch((problem) => say(problem.message));
});
