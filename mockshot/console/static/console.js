// The mockshot console: everything it shows comes from the control API under /_mockshot/,
// with the same admin-token rule as any other client of it. No framework, no build step:
// the page must work offline from the wheel. Data from calls is only ever put in the page
// as text (never as HTML), because a request may contain anything.
"use strict";

const BASE = "/_mockshot";
const PAGE = 50;
const state = {
  tab: "journal", test: "", token: sessionStorage.getItem("mockshot-token") || "",
  virtual: false, pages: {}, open: new Set(), refreshing: new Set(), timers: {},
  details: new Map(),  // entry id → the whole entry, while what the page shows of it holds
};

// ---- talking to the control API --------------------------------------------------------

function headers(extra) {
  const sent = Object.assign({}, extra || {});
  if (state.token) sent["X-Mockshot-Admin-Token"] = state.token;
  if (state.test) sent["X-Mockshot-Test"] = state.test;
  return sent;
}

async function api(path, options) {
  options = options || {};
  const reply = await fetch(BASE + path, Object.assign({}, options, {headers: headers(options.headers)}));
  if (reply.status === 401) { askToken(); throw new Error("the control API needs the admin token"); }
  const type = reply.headers.get("content-type") || "";
  const body = type.includes("json") ? await reply.json() : await reply.text();
  if (!reply.ok) {
    const message = body && body.error ? body.error.message : String(body);
    throw new Error(`${reply.status}: ${message}`);
  }
  return body;
}

function askToken() {
  const dialog = document.getElementById("token-dialog");
  if (dialog.open) return;
  dialog.showModal();
  dialog.addEventListener("close", () => {
    state.token = document.getElementById("token").value;
    sessionStorage.setItem("mockshot-token", state.token);
    reconnect(); refreshAll();
  }, {once: true});
}

function notice(text, bad) {
  const box = document.getElementById("notice");
  box.textContent = text; box.hidden = false; box.className = bad ? "bad" : "";
  clearTimeout(state.timers.notice);
  state.timers.notice = setTimeout(() => { box.hidden = true; }, bad ? 8000 : 3000);
}

// ---- small DOM helpers ----------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const at = new Date(seconds * 1000);
  return at.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
}

function json(value) { return JSON.stringify(value, null, 2); }

function usd(value) { return value === null || value === undefined ? "" : `$${Number(value).toFixed(4)}`; }

// ---- the journal ----------------------------------------------------------------------

function filterQuery() {
  const form = document.getElementById("filters");
  const query = {};
  for (const name of ["operation", "model", "status", "key"]) {
    const value = form.elements[name].value.trim();
    if (value) query[name] = value;
  }
  return query;
}

function pageOf(view) {
  if (!state.pages[view]) state.pages[view] = {before: null, stack: [], unseen: 0};
  return state.pages[view];
}

async function loadJournal(view) {
  const page = pageOf(view);
  const query = Object.assign(view === "unmatched" ? {} : filterQuery(), {order: "newest", limit: String(PAGE)});
  if (page.before !== null) query.before = String(page.before);
  const path = view === "unmatched" ? "/unmatched" : "/journal";
  let found;
  try {
    found = await api(path + "?" + new URLSearchParams(query));
  } catch (error) { notice(error.message, true); return; }
  const known = new Set([...document.querySelectorAll(`#${view}-rows tr.call`)].map((row) => row.dataset.id));
  renderRows(view, found.data, known);
  renderPager(view, found);
  page.unseen = 0;
  for (const entry of found.data) addOperation(entry.operation);
}

function addOperation(operation) {
  const list = document.getElementById("operations");
  if ([...list.options].some((option) => option.value === operation)) return;
  list.append(el("option", {value: operation}));
}

function statusCell(entry) {
  const status = entry.status;
  return el("td", {class: `status s${String(status)[0]}`, "data-testid": "status"}, status || "—");
}

function replyTags(entry) {
  const tags = [...(entry.served || [])];
  if (entry.error) tags.push(entry.error);
  if (entry.fault) tags.push("fault:" + entry.fault);
  if (entry.disconnected) tags.push("client left");
  if (entry.unmatched) tags.push("unmatched");
  return tags.map((tag) => el("span", {class: "tag"}, tag));
}

function callRow(view, entry, fresh) {
  const row = el("tr", {class: "call" + (fresh ? " fresh" : ""), "data-id": entry.id, "data-testid": "call",
                        onclick: () => toggle(view, entry.id, row)},
    el("td", {}, entry.id), el("td", {}, when(entry.at)), el("td", {}, entry.operation),
    el("td", {}, entry.model || ""), statusCell(entry), el("td", {}, entry.elapsed_ms.toFixed(1)),
    el("td", {}, entry.rule ? `${entry.rule} · use ${entry.rule_use + 1}` : ""),
    el("td", {}, entry.seed), el("td", {}, replyTags(entry)));
  return row;
}

function renderRows(view, entries, known) {
  const body = document.getElementById(`${view}-rows`);
  const rows = [];
  for (const entry of entries) {
    const row = callRow(view, entry, known.size > 0 && !known.has(String(entry.id)));
    rows.push(row);
    if (state.open.has(`${view}:${entry.id}`)) {
      const detail = el("tr", {class: "detail", "data-for": entry.id}, el("td", {colspan: 9}, "loading…"));
      rows.push(detail);
      fillDetail(detail, entry.id, entry);
    }
  }
  if (!entries.length) rows.push(el("tr", {}, el("td", {colspan: 9, class: "empty"}, "No calls yet.")));
  body.replaceChildren(...rows);
}

function renderPager(view, found) {
  const page = pageOf(view);
  const pager = document.getElementById(`${view}-pager`);
  const newer = el("button", {disabled: !page.stack.length, "data-testid": "newer", onclick: () => {
    page.before = page.stack.pop(); if (page.before === undefined) page.before = null; loadJournal(view);
  }}, "← Newer");
  const older = el("button", {disabled: !found.has_more, "data-testid": "older", onclick: () => {
    page.stack.push(page.before); page.before = found.last_id; loadJournal(view);
  }}, "Older →");
  const first = page.before === null ? "newest" : `before #${page.before}`;
  const live = page.before === null ? "live" : "paused: go to the newest page for live updates";
  const jump = page.before !== null ? el("button", {onclick: () => { page.before = null; page.stack = []; loadJournal(view); }},
                                        "Newest") : null;
  pager.replaceChildren(...[newer, older, el("span", {"data-testid": "total"},
    `${found.total} call(s) · showing ${found.data.length}, ${first} · ${live}`), jump].filter(Boolean));
}

async function toggle(view, id, row) {
  const key = `${view}:${id}`;
  const next = row.nextElementSibling;
  if (state.open.has(key)) {
    state.open.delete(key);
    if (next && next.classList.contains("detail")) next.remove();
    return;
  }
  state.open.add(key);
  const detail = el("tr", {class: "detail", "data-for": id}, el("td", {colspan: 9}, "loading…"));
  row.after(detail);
  await fillDetail(detail, id);
}

async function fillDetail(detail, id, listed) {
  // a live refresh redraws the rows: an open entry is fetched again only if it moved on
  // (a stream still being sent), so ten refreshes a second cost no requests
  const known = state.details.get(id);
  let entry = known && listed && known.chunks_sent === listed.chunks_sent &&
    known.status === listed.status ? known : null;
  if (!entry) {
    try { entry = await api(`/journal/${id}`); } catch (error) {
      detail.firstChild.textContent = error.message; return;
    }
    state.details.set(id, entry);
  }
  const grid = el("div", {class: "detail-grid", "data-testid": "detail"},
    el("div", {}, el("h3", {}, "What was answered"), el("div", {"data-testid": "summary"}, summary(entry)),
      el("h3", {}, "How"), facts(entry)),
    el("div", {}, el("h3", {}, "Request"), el("pre", {"data-testid": "request"}, requestText(entry))),
    el("div", {class: "wide"}, el("h3", {}, entry.frames ? `Stream: ${entry.frames.length} frame(s), when each was due`
                                                         : "Reply"), replyPart(entry)));
  detail.firstChild.replaceChildren(grid);
}

// What a chat reply said, put together from a JSON body or a stream's deltas, so nobody
// has to read the frames to know what the client got.
function summary(entry) {
  const message = {content: "", reasoning: "", tools: {}, finish: null, usage: null, error: null};
  const take = (body) => {
    if (!body || typeof body !== "object") return;
    if (body.error) message.error = `${body.error.type}: ${body.error.message}`;
    if (body.type === "error" && body.error) message.error = `${body.error.type}: ${body.error.message}`;
    for (const choice of body.choices || []) {
      const part = choice.delta || choice.message || {};
      message.content += part.content || "";
      message.reasoning += part.reasoning_content || "";
      for (const [index, call] of (part.tool_calls || []).entries()) {
        const slot = message.tools[call.index ?? index] ||= {name: "", arguments: ""};
        if (call.function && call.function.name) slot.name += call.function.name;
        if (call.function && call.function.arguments) slot.arguments += call.function.arguments;
      }
      if (choice.finish_reason) message.finish = choice.finish_reason;
      if (choice.usage) message.usage = choice.usage;
    }
    if (body.usage) message.usage = body.usage;
    if (body.delta && body.delta.text) message.content += body.delta.text;  // the Anthropic surface
    for (const block of body.content || []) if (block.text) message.content += block.text;
    if (body.stop_reason) message.finish = body.stop_reason;
  };
  if (entry.frames) {
    for (const frame of entry.frames) {
      for (const line of frame.data.split("\n")) {
        if (line.startsWith("data: ") && line !== "data: [DONE]") {
          try { take(JSON.parse(line.slice(6))); } catch (_) { /* a malformed frame, on purpose */ }
        }
      }
    }
  } else if (entry.reply) {
    try { take(JSON.parse(entry.reply.text)); } catch (_) { return el("p", {class: "empty"}, "(not JSON)"); }
  }
  const rows = [["error", message.error], ["reasoning", message.reasoning], ["content", message.content],
    ...Object.values(message.tools).map((call) => ["tool call", `${call.name}(${call.arguments})`]),
    ["finish", message.finish],
    ["usage", message.usage ? Object.entries(message.usage).filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${v}`).join(", ") : null]].filter(([, value]) => value);
  if (!rows.length) return el("p", {class: "empty"}, "(see the reply below)");
  return el("dl", {class: "facts"}, rows.map(([name, value]) => [el("dt", {}, name), el("dd", {class: "said"}, value)]));
}

function requestText(entry) {
  if (entry.request === null || entry.request === undefined) return "(no body)";
  if (entry.request.truncated !== undefined && entry.request.text !== undefined) {
    return (entry.request.truncated ? `(first 64 KiB of ${entry.request.bytes} bytes)\n` : "") + entry.request.text;
  }
  return json(entry.request);
}

function replyPart(entry) {
  if (entry.frames) {
    const rows = entry.frames.map((frame, index) => el("tr", {class: frame.sent ? "" : "unsent"},
      el("td", {}, index + 1), el("td", {}, `${frame.at_ms.toFixed(1)} ms`), el("td", {}, frame.data.trim())));
    const note = entry.frames_truncated ? el("p", {class: "hint"}, "Later frames are past the journal's 64 KiB bound.") : null;
    return el("div", {}, el("table", {class: "frames", "data-testid": "frames"},
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "due"), el("th", {}, "frame"))),
      el("tbody", {}, rows)), note);
  }
  if (!entry.reply) return el("pre", {"data-testid": "reply"}, "(no reply body kept)");
  const cut = entry.reply.truncated ? `(first 64 KiB of ${entry.reply.bytes} bytes)\n` : "";
  return el("pre", {"data-testid": "reply"}, cut + pretty(entry.reply.text));
}

function facts(entry) {
  const rows = [
    ["status", entry.status], ["account", entry.account], ["surface", entry.surface],
    ["rule", entry.rule ? `${entry.rule} (its use ${entry.rule_use + 1}; rule_use ${entry.rule_use})`
                        : "none: the seeded generator answered"],
    ["replay seed", entry.seed], ["identical calls before", entry.ordinal],
    ["fault", entry.fault], ["error", entry.error], ["retry after", entry.retry_after],
    ["cost", entry.cost ? usd(entry.cost) : null], ["chunks sent", entry.chunks_sent],
    ["client left early", entry.disconnected], ["violation", entry.violation ? json(entry.violation) : null],
    ["elapsed", `${entry.elapsed_ms} ms`], ["at", when(entry.at)],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  const list = el("dl", {class: "facts"}, rows.map(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
  const replay = `curl ${location.origin}${entry.operation.split(" ")[1] || ""} \\\n  -H 'Authorization: Bearer $KEY' ` +
    `-H 'Content-Type: application/json' \\\n  -H 'X-Mockshot-Seed: ${entry.seed}' -d @request.json`;
  return el("div", {}, list, el("h3", {}, "Replay it"),
    el("pre", {"data-testid": "replay"}, entry.rule
      ? `A rule answered this call: load the same scenario, reset, and send the same calls in order\n(the seed replays what the rule left to the generator):\n${replay}`
      : replay));
}

// ---- rules, accounts, files and batches, coverage --------------------------------------

async function loadRules() {
  try {
    const [rules, states] = await Promise.all([api("/rules"), api("/scenarios")]);
    document.getElementById("state-rows").replaceChildren(...(states.data.length ? states.data.map((s) =>
      el("tr", {}, el("td", {}, s.scenario), el("td", {"data-testid": "scenario-state"}, s.state), el("td", {}, s.rules))) :
      [el("tr", {}, el("td", {colspan: 3, class: "empty"}, "No scenario is loaded."))]));
    document.getElementById("rule-rows").replaceChildren(...(rules.data.length ? rules.data.map(ruleRow) :
      [el("tr", {}, el("td", {colspan: 8, class: "empty"}, "No rules: the seeded generator answers every call."))]));
  } catch (error) { notice(error.message, true); }
}

function ruleRow(rule) {
  const remove = el("button", {title: "delete this rule", onclick: async (event) => {
    event.stopPropagation();
    try { await api(`/rules/${encodeURIComponent(rule.name)}`, {method: "DELETE"}); notice(`Deleted rule ${rule.name}`); loadRules(); }
    catch (error) { notice(error.message, true); }
  }}, "Delete");
  return el("tr", {"data-testid": "rule"}, el("td", {}, rule.name), el("td", {}, rule.scenario),
    el("td", {}, (rule.operation || []).join(", ") || "any"), el("td", {}, rule.uses),
    el("td", {}, rule.times === null ? "∞" : rule.times), el("td", {}, rule.replies + (rule.cycle ? " (cycle)" : "")),
    el("td", {}, rule.then_state || ""), el("td", {}, remove));
}

function meter(name, used, limit) {
  const share = limit ? Math.min(1, used / limit) : 0;
  return el("div", {}, el("div", {}, `${name}: ${used}${limit ? " / " + limit : " (no limit)"}`),
    el("div", {class: "meter" + (share >= 1 ? " full" : "")}, el("span", {style: `width: ${share * 100}%`})));
}

async function loadAccounts() {
  let found;
  try { found = await api("/accounts"); } catch (error) { notice(error.message, true); return; }
  const cards = found.data.map((account) => {
    const limits = account.limits || {};
    const usage = account.usage || {};
    return el("div", {class: "card", "data-testid": "account"},
      el("h3", {}, account.account),
      el("dl", {class: "facts"},
        el("dt", {}, "available"), el("dd", {"data-testid": "available"}, usd(account.data.available_balance)),
        el("dt", {}, "cash"), el("dd", {}, usd(account.data.cash_balance)),
        el("dt", {}, "voucher"), el("dd", {}, usd(account.data.voucher_balance)),
        el("dt", {}, "tier"), el("dd", {}, account.tier === null ? "none (no limits)" : account.tier)),
      el("h3", {}, "Rate-limit windows"),
      ["concurrency", "rpm", "tpm", "tpd"].map((name) => meter(name, usage[name] || 0, limits[name])));
  });
  document.getElementById("account-cards").replaceChildren(el("div", {class: "cards"},
    cards.length ? cards : el("p", {class: "empty"}, "No account has called yet.")));
  renderResources(found.data);
}

function renderResources(accounts) {
  const cards = accounts.filter((a) => a.files.length || a.batches.length).map((account) => el("div", {class: "card"},
    el("h3", {}, account.account),
    el("h3", {}, `Files (${account.files.length})`),
    account.files.length ? el("table", {"data-testid": "files"}, el("thead", {}, el("tr", {},
      ["id", "filename", "purpose", "bytes", "created"].map((h) => el("th", {}, h)))),
      el("tbody", {}, account.files.map((file) => el("tr", {}, el("td", {}, file.id), el("td", {}, file.filename),
        el("td", {}, file.purpose), el("td", {}, file.bytes), el("td", {}, when(file.created_at))))))
      : el("p", {class: "empty"}, "No files."),
    el("h3", {}, `Batches (${account.batches.length}${account.batches_has_more ? "+" : ""})`),
    account.batches.map((batch) => el("div", {"data-testid": "batch"},
      el("div", {}, el("strong", {}, batch.id), " ", el("span", {class: "tag", "data-testid": "batch-status"}, batch.status),
        ` ${batch.request_counts.completed} done, ${batch.request_counts.failed} failed of ${batch.request_counts.total}`),
      el("ol", {class: "timeline"}, batch.timeline.map((step) =>
        el("li", {class: step.reached ? "reached" : "", title: when(step.at)}, `${step.status} ${when(step.at).slice(11)}`)))))));
  document.getElementById("resource-cards").replaceChildren(
    cards.length ? el("div", {class: "cards"}, cards) : el("p", {class: "empty"}, "No files or batches yet."));
}

async function loadCoverage() {
  try {
    const html = await api("/report?format=html");
    document.getElementById("coverage-frame").srcdoc = html;
  } catch (error) { notice(error.message, true); }
}

async function loadClock() {
  try {
    const clock = await api("/clock");
    state.virtual = clock.virtual;
    document.getElementById("clock").textContent = `${clock.virtual ? "virtual" : "real"} clock ${when(clock.now)}`;
    document.getElementById("advance").disabled = !clock.virtual;
  } catch (error) { /* the notice of the failing panel says enough */ }
}

async function loadPartitions() {
  try {
    const tests = await api("/tests", {headers: {}});
    const select = document.getElementById("partition");
    const names = ["", ...tests.data];
    if (state.test && !names.includes(state.test)) names.push(state.test);
    select.replaceChildren(...names.map((name) => el("option", {value: name, selected: name === state.test},
      name || "(root mock)")));
  } catch (_) { /* partitions are optional */ }
}

const LOADERS = {
  journal: () => loadJournal("journal"), unmatched: () => loadJournal("unmatched"),
  rules: loadRules, accounts: loadAccounts, resources: loadAccounts, coverage: loadCoverage,
};

function refresh(tab) {
  // one load at a time per tab, and one more if something changed meanwhile
  if (state.refreshing.has(tab)) { state.refreshing.add(tab + ":again"); return; }
  state.refreshing.add(tab);
  Promise.resolve(LOADERS[tab]()).finally(() => {
    state.refreshing.delete(tab);
    if (state.refreshing.delete(tab + ":again")) refresh(tab);
  });
}

function refreshAll() { loadClock(); refresh(state.tab); }

// ---- live updates: the mock's own server-sent events -----------------------------------

let feed = null;

function reconnect() {
  if (feed) feed.abort();
  feed = new AbortController();
  follow(feed.signal);
}

async function follow(signal) {
  const live = document.getElementById("live");
  try {
    const reply = await fetch(BASE + "/events", {headers: headers(), signal});
    if (reply.status === 401) { askToken(); return; }
    if (!reply.ok) throw new Error(String(reply.status));
    live.textContent = "live"; live.className = "live";
    const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, end)); buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (signal.aborted) return;
  }
  live.textContent = "reconnecting"; live.className = "live off";
  setTimeout(() => { if (!signal.aborted) follow(signal); }, 1000);
}

function handle(message) {
  let event = "message", data = "";
  for (const line of message.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (event === "journal") onJournal(JSON.parse(data));
  else if (event === "state") refreshAll();
  else if (event === "hello") refreshAll();
}

function onJournal(news) {
  for (const view of ["journal", "unmatched"]) {
    const page = pageOf(view);
    if (page.before !== null && !page.unseen) {  // paged back: say so, do not move the page
      page.unseen = 1;
      const total = document.querySelector(`#${view}-pager [data-testid=total]`);
      if (total) total.textContent += " · newer calls arrived";
    }
  }
  const paged = (state.tab === "journal" || state.tab === "unmatched") && pageOf(state.tab).before !== null;
  if (!paged) refresh(state.tab);
  loadClock();
}

// ---- actions: the same admin API, the same token rule ----------------------------------

async function act(what, path, options, forgets) {
  try {
    await api(path, options);
    notice(what);
    if (forgets) { state.open.clear(); state.pages = {}; state.details.clear(); }
    refreshAll();
  } catch (error) { notice(error.message, true); }
}

function setUp() {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      for (const other of document.querySelectorAll("#tabs button")) other.classList.toggle("on", other === button);
      for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("on", tab.id === state.tab);
      refresh(state.tab);
    });
  }
  const form = document.getElementById("filters");
  form.addEventListener("input", () => {
    clearTimeout(state.timers.filter);
    state.timers.filter = setTimeout(() => { Object.assign(pageOf("journal"), {before: null, stack: []}); refresh("journal"); }, 250);
  });
  form.addEventListener("reset", () => setTimeout(() => form.dispatchEvent(new Event("input")), 0));
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("reset").addEventListener("click", () => {
    if (!confirm("Forget the journal, call counts, rule uses and scenario states? Rules stay.")) return;
    act("Reset: the journal and progress are forgotten; rules stay.", "/reset", {method: "POST"}, true);
  });
  document.getElementById("advance").addEventListener("click", () => {
    const seconds = Number(document.getElementById("advance-seconds").value);
    act(`Advanced the virtual clock by ${seconds} s.`, "/clock", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({advance: seconds})});
  });
  document.getElementById("scenario-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const yaml = !/\.json$/i.test(file.name);
    await act(`Loaded scenario file ${file.name}.`, "/scenarios", {method: "POST",
      headers: {"Content-Type": yaml ? "application/yaml" : "application/json"}, body: await file.text()});
    event.target.value = "";
  });
  document.getElementById("partition").addEventListener("change", (event) => {
    state.test = event.target.value; state.pages = {}; state.open.clear(); state.details.clear();
    reconnect(); refreshAll();
  });
  document.getElementById("partition").addEventListener("focus", loadPartitions);
  loadPartitions();
  reconnect();
  refreshAll();  // the feed's hello refreshes again; the page works even if it cannot connect
}

document.addEventListener("DOMContentLoaded", setUp);
