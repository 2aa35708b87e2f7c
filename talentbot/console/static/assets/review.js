// The review queue (/review, supervisors): groups of messages the assistant did not understand, from /api/review,
// and the decisions on them (/api/review/decisions). Every text goes in with textContent (console.js's `el`), as
// everywhere in the console: a user's message is shown, never run. A decision sends the ids of the messages the
// page shows for the group, so it covers exactly what the supervisor saw.
"use strict";

const REASONS = { nlu_fallback: "not understood", core_fallback: "no rule applied", offer_not_taken: "\"Did you mean\" not taken" };
const STATUS_WORDS = { paraphrase: "Paraphrase of", content_gap: "Content gap", dismissed: "Dismissed" };
const review = { targets: new Map() };

function counts(mapping, words) {
  return Object.entries(mapping).map(([key, n]) => (words && words[key] ? words[key] : key) + " " + n).join(" · ");
}

function targetValue(target) {
  return target.kind + ":" + target.id;
}

function targetLabel(target) {
  if (target.kind === "intent") return "intent " + target.id;
  const label = target.labels.en || "";
  return "entry " + target.id + (label ? " — " + label : "");
}

function decisionText(decision) {
  if (decision.status === "paraphrase" && decision.target) {
    return STATUS_WORDS.paraphrase + " " + decision.target.kind + " " + decision.target.id;
  }
  if (decision.status === "content_gap") return STATUS_WORDS.content_gap + ": " + (decision.note || "");
  return STATUS_WORDS[decision.status] || decision.status;
}

// the value typed or picked in the searchable field: "entry:ttps.quota" or the text of one of its options
function parseTarget(value) {
  const text = value.trim();
  for (const [key, target] of review.targets) {
    if (text === key || text === targetLabel(target)) return target;
  }
  return null;
}

async function loadTargets() {
  const found = await call("GET", "/api/review/targets");
  const list = document.getElementById("targets");
  list.replaceChildren(...found.map((target) => {
    review.targets.set(targetValue(target), target);
    const option = el("option", targetLabel(target));
    option.value = targetValue(target);
    return option;
  }));
}

function guessItem(guess) {
  const share = Math.round(guess.score * 100) + "%";
  const text = guess.kind + " " + guess.id + (guess.label ? " — " + guess.label : "") + " (" + share + ", " +
    guess.members + " message" + (guess.members === 1 ? "" : "s") + ")";
  return el("li", text);
}

function exampleItem(example) {
  const item = el("li");
  const label = el("label");
  const box = el("input");
  box.type = "checkbox";
  box.checked = true;
  box.dataset.key = String(example.key);
  box.title = "Untick to leave this message out of the export (not a paraphrase after all, or personal data)";
  const text = el("span", example.text);
  box.addEventListener("change", () => { text.className = box.checked ? "" : "excluded"; });
  label.append(box, text, el("span", example.language || "?", "lang"));
  item.append(label);
  return item;
}

function decisionForm(group, card) {
  const form = el("form");
  const action = el("select");
  for (const [value, text] of [["paraphrase", "Paraphrase of…"], ["content_gap", "Content gap"], ["dismissed", "Dismiss"]]) {
    const option = el("option", text);
    option.value = value;
    action.append(option);
  }
  const target = el("input");
  target.type = "text";
  target.setAttribute("list", "targets");
  target.placeholder = "search an intent or a bank entry";
  target.setAttribute("aria-label", "paraphrase of");
  const best = group.guesses.find((guess) => review.targets.has(targetValue(guess)));
  if (best) target.value = targetValue(best);
  const note = el("textarea");
  note.placeholder = "what is missing, for the content team";
  note.maxLength = 2000;
  note.hidden = true;
  note.setAttribute("aria-label", "note");
  const submit = el("button", "Decide");
  submit.type = "submit";
  action.addEventListener("change", () => {
    target.hidden = action.value !== "paraphrase";
    note.hidden = action.value !== "content_gap";
  });
  form.append(action, target, note, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { group_id: group.id, members: group.members, status: action.value,
                   excluded: [...card.querySelectorAll("input[type=checkbox]:not(:checked)")].map((b) => Number(b.dataset.key)) };
    if (action.value === "paraphrase") {
      const picked = parseTarget(target.value);
      if (!picked) { say("Pick an intent or a bank entry from the list."); return; }
      body.target = { kind: picked.kind, id: picked.id };
    }
    if (action.value === "content_gap") body.note = note.value;
    submit.disabled = true;
    try {
      await call("POST", "/api/review/decisions", body);
      say("");
      await refresh();
    } catch (problem) {
      say(problem.message);
      submit.disabled = false;
    }
  });
  return { form, action, target, note };
}

function groupCard(group) {
  const card = el("article", null, "group");
  card.dataset.groupId = group.id;
  card.append(el("h3", group.representative));
  card.append(el("p", group.size + " message" + (group.size === 1 ? "" : "s") + " · " + counts(group.languages) +
                      " · " + counts(group.reasons, REASONS), "facts"));
  const controls = decisionForm(group, card);
  if (group.earlier) {
    const earlier = el("p", "The same question came back: " + group.earlier.members + " message(s) like these were decided on " +
                            group.earlier.decided_at.slice(0, 10) + " by " + group.earlier.decided_by + ": " +
                            decisionText(group.earlier) + ". ", "facts earlier");
    const same = el("button", "Decide the same");
    same.type = "button";
    same.addEventListener("click", () => {
      controls.action.value = group.earlier.status;
      controls.action.dispatchEvent(new Event("change"));
      if (group.earlier.target) controls.target.value = group.earlier.target.kind + ":" + group.earlier.target.id;
      if (group.earlier.note) controls.note.value = group.earlier.note;
      controls.form.requestSubmit();
    });
    earlier.append(same);
    card.append(earlier);
  }
  if (group.guesses.length) {
    card.append(el("p", "The assistant's best guesses:", "facts"));
    const guesses = el("ul");
    guesses.append(...group.guesses.map(guessItem));
    card.append(guesses);
  }
  card.append(el("p", "What was written (untick a text to leave it out of the export):", "facts"));
  const examples = el("ul");
  examples.append(...group.examples.map(exampleItem));
  card.append(examples);
  if (group.size > group.examples.length) {
    card.append(el("p", "… and " + (group.size - group.examples.length) + " more like these (the decision covers them too).", "facts"));
  }
  card.append(controls.form);
  return card;
}

function decisionRow(decision) {
  const row = el("tr");
  row.dataset.decisionId = String(decision.id);
  const examples = decision.examples.map((e) => e.text).join(" / ");
  row.append(el("td", decision.id), el("td", decisionText(decision)),
             el("td", decision.members + " (" + counts(decision.languages) + ")"), el("td", examples),
             el("td", decision.decided_by + " · " + decision.decided_at.slice(0, 16).replace("T", " ")));
  const cell = el("td");
  const undo = el("button", "Withdraw");
  undo.type = "button";
  undo.title = "Send these messages back to the queue";
  undo.addEventListener("click", async () => {
    try {
      await call("POST", "/api/review/decisions/" + decision.id + "/withdraw");
      await refresh();
    } catch (problem) {
      say(problem.message);
    }
  });
  cell.append(undo);
  row.append(cell);
  return row;
}

async function refresh() {
  say("Loading…");
  const [queue, decisions] = await Promise.all([call("GET", "/api/review"), call("GET", "/api/review/decisions")]);
  const groups = queue.groups.length;
  document.getElementById("summary").textContent = queue.misses + " message(s) to review in " + groups + " group(s); " +
    queue.decided + " decided.";
  document.getElementById("groups").replaceChildren(...queue.groups.map(groupCard));
  document.querySelector("#decisions tbody").replaceChildren(...decisions.map(decisionRow));
  say("");
  document.body.dataset.loaded = String(Date.now());
}

async function reviewPage() {
  await whoAmI();
  await loadTargets();
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  const pages = { review: reviewPage };
  const page = pages[document.body.dataset.page];
  if (page) Promise.resolve().then(page).catch((problem) => say(problem.message));
});
