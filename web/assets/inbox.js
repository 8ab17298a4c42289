// Agent inbox: the queue, my conversations, a live conversation and its card.
"use strict";
(function () {
  var el = SB.el, clear = SB.clear;
  var current = null;      // selected conversation ID
  var card = null;         // its card
  var state = { queue: [], mine: [], agents: [], me: null };
  var seen = {};           // message keys shown in the log

  function $(id) { return document.getElementById(id); }

  function waitText(c) { return c.since ? SB.since(c.since) : ""; }

  function item(c, list) {
    var name = (c.customer && (c.customer.name || c.customer.id)) || c.conv;
    var meta = [c.platform, c.lang, c.reason, c.topic].filter(Boolean).join(" · ");
    var pos = c.position ? "#" + c.position + " " : "";
    var b = el("button", { type: "button", class: "qitem", "data-conv": c.conv, "aria-current": c.conv === current ? "true" : "false",
        onclick: function () { open(c.conv); } },
      el("span", { class: "wait" + (c.since && Date.now() - new Date(c.since) > 5 * 60000 ? " late" : ""), "data-since": c.since || "",
        text: list === "queue" ? waitText(c) : "" }),
      el("span", { class: "name", text: pos + name }),
      c.priority ? el("span", { class: "badge bad", text: "priority " + c.priority }) : null,
      el("div", { class: "meta", text: meta }),
      c.summary ? el("div", { class: "meta", text: c.summary.slice(0, 120) }) : null);
    b.setAttribute("aria-label", (list === "queue" ? "Waiting " + waitText(c) + ": " : "") + pos + name + ", " + meta);
    return el("li", null, b);
  }

  function renderLists() {
    var q = $("queue"), m = $("mine");
    clear(q); clear(m);
    state.queue.forEach(function (c) { q.appendChild(item(c, "queue")); });
    state.mine.forEach(function (c) { m.appendChild(item(c, "mine")); });
    if (!state.queue.length) q.appendChild(el("li", { class: "muted", text: "Nobody is waiting." }));
    if (!state.mine.length) m.appendChild(el("li", { class: "muted", text: "You hold no conversation." }));
    $("queue-count").textContent = state.queue.length;
    $("mine-count").textContent = state.mine.length;
    document.querySelectorAll("#status button").forEach(function (b) {
      b.setAttribute("aria-pressed", state.me && state.me.status === b.dataset.status ? "true" : "false");
    });
    var sel = $("transfer-to");
    var keep = sel.value;
    clear(sel);
    sel.appendChild(el("option", { value: "", text: "Transfer to…" }));
    state.agents.forEach(function (a) {
      if (state.me && a.id === state.me.id) return;
      sel.appendChild(el("option", { value: "agent:" + a.id, text: a.name + " (" + a.status + ")" }));
    });
    var skills = {};
    state.agents.forEach(function (a) { (a.skills || []).forEach(function (s) { skills[s] = true; }); });
    Object.keys(skills).sort().forEach(function (s) { sel.appendChild(el("option", { value: "skill:" + s, text: "Team: " + s })); });
    sel.value = keep;
  }

  var loading = null;
  async function refresh() {
    if (loading) return loading;
    loading = (async function () {
      try {
        var s = await SB.api("GET", "/inbox/api/state");
        s.queue = s.queue || []; s.mine = s.mine || []; s.agents = s.agents || [];
        state = s;
        renderLists();
        if ($("live").textContent.indexOf("Could not") === 0) $("live").textContent = "Live.";
      } catch (e) {
        if (window.console) console.error(e);
        $("live").textContent = "Could not load the queue: " + (e.error || e.message || e);
      } finally { loading = null; }
    })();
    return loading;
  }

  function msgKey(m) { return (m.id || "") + "|" + m.at + "|" + m.role + "|" + m.text; }

  function showMsg(m) {
    var k = msgKey(m);
    if (seen[k]) return;
    seen[k] = true;
    var cls = m.kind === "note" ? "note" : m.role;
    var by = m.role === "customer" ? "Customer" : m.role === "agent" ? (m.author || "Agent") : m.kind === "note" ? "Note by " + (m.author || "agent") : m.role === "bot" ? "Bot" : "System";
    var log = $("log");
    log.appendChild(el("div", { class: "msg " + cls }, el("span", { class: "by", text: by + " · " + new Date(m.at).toLocaleTimeString() }), m.text));
    log.scrollTop = log.scrollHeight;
  }

  function dl(pairs) {
    var d = el("dl");
    pairs.forEach(function (p) {
      if (p[1] == null || p[1] === "" || (Array.isArray(p[1]) && !p[1].length)) return;
      d.appendChild(el("dt", { text: p[0] }));
      d.appendChild(el("dd", null, p[1]));
    });
    return d;
  }

  function renderCard() {
    var body = clear($("ctx-body"));
    $("ctx-empty").hidden = !!card;
    if (!card) return;
    var c = card;
    var name = (c.customer && (c.customer.name || c.customer.id)) || c.conv;
    $("conv-title").textContent = name + " · " + c.state + (c.agent_name ? " (" + c.agent_name + ")" : "") + (c.position ? " · #" + c.position + " in queue" : "");
    var mine = state.me && c.agent === state.me.id;
    $("claim").disabled = c.state !== "queued";
    $("release").disabled = !(c.state === "agent" && mine);
    $("resolve").disabled = !((c.state === "agent" && mine) || c.state === "queued");
    $("transfer").disabled = !(c.state === "agent" && mine || c.state === "queued");
    $("compose").hidden = !(c.state === "agent" || c.state === "queued");
    $("send-reply").textContent = c.state === "queued" ? "Claim and reply" : "Send reply";
    body.appendChild(el("h3", { text: "Summary" }));
    body.appendChild(el("p", { class: "summary", id: "ctx-summary", text: c.summary || "—" }));
    body.appendChild(dl([
      ["Customer", name + (c.customer && c.customer.email ? " <" + c.customer.email + ">" : "")],
      ["Platform", c.platform],
      ["Language", c.lang],
      ["Intent", c.intent ? c.intent + (c.confidence ? " (" + Math.round(c.confidence * 100) + "%)" : "") : ""],
      ["Reason", c.reason],
      ["Topic", c.topic],
      ["Sentiment", c.sentiment],
      ["Bot tried", (c.tried || []).join(", ")],
      ["Waiting since", c.since ? SB.when(c.since) + " (" + SB.since(c.since) + ")" : ""],
      ["Opens", c.opens ? SB.when(c.opens) : ""],
      ["Skill", c.skill],
      ["Priority", c.priority ? String(c.priority) : ""],
      ["Contact", c.contact],
      ["Held by", c.agent_name || c.agent]
    ]));
    if (c.history && c.history.length) {
      body.appendChild(el("h3", { text: "Earlier conversations" }));
      body.appendChild(el("ul", null, c.history.map(function (p) {
        return el("li", null, SB.when(p.started) + " · " + p.channel + " · " + p.outcome + (p.csat ? " · CSAT " + p.csat : "") + (p.subject ? ": " + p.subject : ""));
      })));
    }
  }

  async function open(id) {
    current = id;
    seen = {};
    clear($("log"));
    $("conv-error").hidden = true;
    $("conv-empty").hidden = true;
    $("conv-head").hidden = false;
    document.querySelectorAll(".qitem").forEach(function (b) { b.setAttribute("aria-current", b.dataset.conv === id ? "true" : "false"); });
    try {
      var d = await SB.api("GET", "/inbox/api/conv/" + encodeURIComponent(id));
      if (current !== id) return;
      card = d.card;
      d.messages.forEach(showMsg);
      renderCard();
      history.replaceState(null, "", "#" + encodeURIComponent(id));
    } catch (e) {
      SB.showError($("conv-error"), e);
    }
  }

  // reload fetches the open conversation again and adds what is new.
  async function reload() {
    var id = current;
    if (!id) return;
    try {
      var d = await SB.api("GET", "/inbox/api/conv/" + encodeURIComponent(id));
      if (current !== id) return;
      card = d.card;
      d.messages.forEach(showMsg);
      renderCard();
    } catch (e) { /* the next event or poll retries */ }
  }

  async function act(action, body) {
    if (!current) return;
    $("conv-error").hidden = true;
    try {
      await SB.api("POST", "/inbox/api/conv/" + encodeURIComponent(current) + "/" + action, body || {});
      SB.say(action === "reply" ? "Sent." : action === "note" ? "Note added." : "Done: " + action + ".");
      await refresh();
      await reload();
      return true;
    } catch (e) {
      SB.showError($("conv-error"), e);
      return false;
    }
  }

  $("claim").addEventListener("click", function () { act("claim"); });
  $("release").addEventListener("click", function () { act("release"); });
  $("resolve").addEventListener("click", function () { act("resolve"); });
  $("transfer").addEventListener("click", function () {
    var v = $("transfer-to").value;
    if (!v) { $("transfer-to").focus(); return; }
    act("transfer", v.indexOf("agent:") === 0 ? { agent: v.slice(6) } : { skill: v.slice(6) });
  });
  async function sendReply(kind) {
    var t = $("reply-text").value.trim();
    if (!t) { $("reply-text").focus(); return; }
    if (await act(kind, { text: t })) $("reply-text").value = "";
    $("reply-text").focus();
  }
  $("compose").addEventListener("submit", function (e) { e.preventDefault(); sendReply("reply"); });
  $("send-note").addEventListener("click", function () { sendReply("note"); });
  $("reply-text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply("reply"); }
  });
  document.querySelectorAll("#status button").forEach(function (b) {
    b.addEventListener("click", async function () {
      try {
        await SB.api("POST", "/inbox/api/status", { status: b.dataset.status });
        SB.say("You are " + b.textContent.toLowerCase() + ".");
        refresh();
      } catch (e) { SB.say(e.error); }
    });
  });

  function listen() {
    var es = new EventSource("/inbox/api/events");
    es.onopen = function () { $("live").textContent = "Live."; refresh(); };
    es.onerror = function () { $("live").textContent = "Reconnecting…"; };
    es.onmessage = function (ev) {
      var e;
      try { e = JSON.parse(ev.data); } catch (x) { return; }
      if (e.type === "card" || e.type === "remind") {
        refresh();
        if (e.conv === current) reload();
        if (e.type === "remind") SB.say("Reminder: a customer is still waiting.");
      } else if (e.type === "msg" && e.conv === current && e.msg) {
        showMsg(e.msg);
      } else if (e.type === "msg") {
        refresh();
      }
    };
  }

  setInterval(function () {
    document.querySelectorAll(".qitem .wait[data-since]").forEach(function (w) {
      if (w.dataset.since && w.textContent) w.textContent = SB.since(w.dataset.since);
    });
  }, 1000);
  setInterval(refresh, 5000); // another replica's changes, and a missed event

  SB.init().then(function (me) {
    if (!me) return;
    refresh().then(function () {
      if (location.hash.length > 1) open(decodeURIComponent(location.hash.slice(1)));
      document.body.setAttribute("data-ready", "1");
    });
    listen();
  });
})();
