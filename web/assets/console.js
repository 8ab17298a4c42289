// Admin console. Every text from the knowledge base, customers or the log
// is inserted with textContent (SB.el), never as HTML.
"use strict";
(function () {
  var el = SB.el, clear = SB.clear;
  function $(id) { return document.getElementById(id); }

  var LANG_NAMES = { en: "English", nb: "Norwegian Bokmål", sv: "Swedish", sr: "Serbian", da: "Danish", de: "German", fi: "Finnish", fr: "French", es: "Spanish" };
  function langName(l) { return (LANG_NAMES[l] || l) + " (" + l + ")"; }

  // ---- Tabs ----
  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
  var loaders = {};
  function select(tab) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    });
    var name = tab.id.slice(4);
    history.replaceState(null, "", "#" + name);
    if (loaders[name]) loaders[name]();
  }
  tabs.forEach(function (t, i) {
    t.addEventListener("click", function () { select(t); });
    t.addEventListener("keydown", function (e) {
      var j = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
      if (j === null) return;
      var n = tabs[(j + tabs.length) % tabs.length];
      n.focus();
      select(n);
    });
  });

  // ---- Knowledge base ----
  var kb = null;            // {version, base, languages}
  var editing = null;       // {kind, name (original, "" for new)}

  function lines(s) { return (s || "").split("\n").map(function (x) { return x.trim(); }).filter(Boolean); }
  function pairs(s, a, b) {
    return lines(s).map(function (l) {
      var i = l.indexOf("|");
      var o = {};
      if (i < 0) { o[a] = l; o[b] = l; } else { o[a] = l.slice(0, i).trim(); o[b] = l.slice(i + 1).trim(); }
      return o;
    });
  }
  function unpairs(list, a, b) { return (list || []).map(function (x) { return x[a] === x[b] ? x[a] : x[a] + " | " + x[b]; }).join("\n"); }

  function entryText(kind, x) {
    var parts = [kind === "intent" ? x.name : x.id, x.description || "", (x.tags || []).join(" ")];
    var texts = kind === "intent" ? x.examples : x.questions;
    Object.keys(texts || {}).forEach(function (l) { parts = parts.concat(texts[l]); });
    Object.keys(x.answers || {}).forEach(function (l) { parts.push(x.answers[l].text); });
    return parts.join(" ").toLowerCase();
  }

  function renderList() {
    var q = $("kb-search").value.trim().toLowerCase();
    var ul = clear($("kb-list"));
    var all = [];
    (kb.base.faq || []).forEach(function (f) { all.push({ kind: "faq", name: f.id, x: f }); });
    (kb.base.intents || []).forEach(function (i) { all.push({ kind: "intent", name: i.name, x: i }); });
    var shown = 0;
    all.forEach(function (e) {
      if (q && entryText(e.kind, e.x).indexOf(q) < 0) return;
      shown++;
      var langs = Object.keys((e.kind === "intent" ? e.x.examples : e.x.questions) || {}).join(", ");
      ul.appendChild(el("li", null, el("button", {
        type: "button", "data-kind": e.kind, "data-name": e.name,
        "aria-current": editing && editing.kind === e.kind && editing.name === e.name ? "true" : "false",
        onclick: function () { edit(e.kind, e.name); }
      }, el("span", { class: "badge" + (e.kind === "intent" ? " warn" : ""), text: e.kind === "faq" ? "FAQ" : "intent" }), e.name,
        langs ? el("span", { class: "muted", text: " · " + langs }) : null)));
    });
    if (!shown) ul.appendChild(el("li", { class: "muted", text: q ? "Nothing matches." : "The knowledge base is empty." }));
  }

  async function loadKB() {
    try {
      kb = await SB.api("GET", "/admin/api/kb");
      $("kb-version").textContent = "version " + kb.version + (kb.live && kb.live !== kb.version ? " (this replica runs v" + kb.live + ")" : "");
      renderList();
      loadHistory();
      fillLangSelect($("try-lang"), true);
    } catch (e) { SB.showError($("kb-error"), e); }
  }

  function fillLangSelect(sel, keepFirst) {
    var v = sel.value;
    while (sel.options.length > (keepFirst ? 1 : 0)) sel.remove(sel.options.length - 1);
    (kb ? kb.languages : []).forEach(function (l) { sel.appendChild(el("option", { value: l, text: langName(l) })); });
    sel.value = v;
  }

  function field(id, label, input) {
    input.id = id;
    return el("div", { class: "field" }, el("label", { for: id, text: label }), input);
  }
  function ta(value, rows) { return el("textarea", { rows: rows || 3, value: value || "" }); }

  // langBlock is the fieldset of one language of the entry.
  function langBlock(kind, lang, x) {
    var texts = (kind === "intent" ? x.examples : x.questions) || {};
    var ans = (x.answers || {})[lang] || {};
    var fs = el("fieldset", { "data-lang": lang }, el("legend", { text: langName(lang) }));
    fs.appendChild(field("f-q-" + lang, kind === "intent" ? "Examples (one message per line)" : "Questions (one per line)", ta((texts[lang] || []).join("\n"), 4)));
    fs.appendChild(field("f-ans-" + lang, "Answer", ta(ans.text, 4)));
    var more = el("div", { class: "grid2" },
      field("f-links-" + lang, "Links (label | URL, one per line)", ta(unpairs(ans.links, "label", "url"), 2)),
      field("f-choices-" + lang, "Buttons (label | value, one per line)", ta(unpairs(ans.choices, "label", "value"), 2)));
    fs.appendChild(more);
    return fs;
  }

  function edit(kind, name, preset) {
    $("kb-diff").hidden = true;
    var x;
    if (name) {
      x = kind === "intent" ? (kb.base.intents || []).find(function (i) { return i.name === name; }) : (kb.base.faq || []).find(function (f) { return f.id === name; });
      if (!x) return;
    } else {
      x = preset || (kind === "intent" ? { name: "", action: "answer", examples: {}, answers: {} } : { id: "", questions: {}, answers: {} });
    }
    editing = { kind: kind, name: name || "", base: kb.version };
    renderList();
    var f = clear($("kb-editor"));
    f.hidden = false;
    f.appendChild(el("h2", { id: "f-heading", text: (name ? "Edit " : "New ") + (kind === "faq" ? "FAQ entry" : "intent") + (name ? " " + name : "") }));
    var box = el("div", { class: "error", id: "f-error", role: "alert", hidden: true });
    f.appendChild(box);
    var top = el("div", { class: "grid2" });
    top.appendChild(field("f-name", kind === "intent" ? "Name (e.g. order.track)" : "ID (e.g. gift-cards)", el("input", { value: kind === "intent" ? x.name : x.id, required: true, autocomplete: "off" })));
    if (kind === "intent") {
      top.appendChild(field("f-desc", "Description", el("input", { value: x.description || "" })));
      var act = el("select", null, ["answer", "handoff", "escalate"].map(function (a) { return el("option", { value: a, text: a, selected: x.action === a }); }));
      top.appendChild(field("f-action", "What the bot does", act));
      var h = x.handoff || {};
      top.appendChild(field("f-skill", "Handoff: skill", el("input", { value: h.skill || "" })));
      top.appendChild(field("f-topic", "Handoff: topic on the card", el("input", { value: h.topic || "" })));
      top.appendChild(field("f-priority", "Handoff: priority (0-100)", el("input", { type: "number", min: 0, max: 100, value: String(h.priority || 0) })));
    } else {
      top.appendChild(field("f-tags", "Tags (comma-separated)", el("input", { value: (x.tags || []).join(", ") })));
      top.appendChild(field("f-link", "Read more (URL)", el("input", { type: "url", value: x.link || "" })));
    }
    f.appendChild(top);
    var langs = kb.languages.slice();
    Object.keys((kind === "intent" ? x.examples : x.questions) || {}).concat(Object.keys(x.answers || {})).forEach(function (l) {
      if (langs.indexOf(l) < 0) langs.push(l);
    });
    if (!langs.length) langs = ["en"];
    var blocks = el("div", { id: "f-langs" });
    langs.forEach(function (l) { blocks.appendChild(langBlock(kind, l, x)); });
    f.appendChild(blocks);
    var addLang = el("input", { id: "f-add-lang", size: 5, placeholder: "de" });
    f.appendChild(el("div", { class: "row" }, el("label", { for: "f-add-lang", text: "Add a language" }), addLang,
      el("button", { type: "button", onclick: function () {
        var l = addLang.value.trim().toLowerCase();
        if (l && !blocks.querySelector('[data-lang="' + CSS.escape(l) + '"]')) blocks.appendChild(langBlock(kind, l, x));
        addLang.value = "";
      } }, "Add")));
    f.appendChild(field("f-note", "What changed (for the history, optional)", el("input", { value: "" })));
    f.appendChild(el("div", { class: "row mt" },
      el("button", { type: "submit", class: "primary", id: "f-save" }, "Publish"),
      name ? el("button", { type: "button", class: "danger", id: "f-delete", onclick: del }, "Delete") : null,
      el("button", { type: "button", onclick: function () { f.hidden = true; editing = null; renderList(); } }, "Cancel")));
    f.onsubmit = function (e) { e.preventDefault(); save(); };
    $("f-name").focus();
  }

  function collect() {
    var kind = editing.kind;
    var name = $("f-name").value.trim();
    var texts = {}, answers = {};
    document.querySelectorAll("#f-langs fieldset").forEach(function (fs) {
      var l = fs.dataset.lang;
      var q = lines($("f-q-" + l).value);
      if (q.length) texts[l] = q;
      var a = $("f-ans-" + l).value.trim();
      var links = pairs($("f-links-" + l).value, "label", "url");
      var choices = pairs($("f-choices-" + l).value, "label", "value");
      if (a || links.length || choices.length) {
        answers[l] = { text: a };
        if (links.length) answers[l].links = links;
        if (choices.length) answers[l].choices = choices;
      }
    });
    if (kind === "intent") {
      var x = { name: name, description: $("f-desc").value.trim(), action: $("f-action").value, examples: texts, answers: answers };
      if (x.action !== "answer") {
        var h = { skill: $("f-skill").value.trim(), topic: $("f-topic").value.trim(), priority: parseInt($("f-priority").value, 10) || 0 };
        if (h.skill || h.topic || h.priority) x.handoff = h;
      }
      return { intent: x };
    }
    var tags = $("f-tags").value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    return { faq: { id: name, questions: texts, answers: answers, tags: tags.length ? tags : undefined, link: $("f-link").value.trim() || undefined } };
  }

  async function save() {
    var body = collect();
    body.base = editing.base;
    body.note = $("f-note").value.trim();
    var newName = editing.kind === "intent" ? body.intent.name : body.faq.id;
    var key = editing.name || newName;
    if (!key) { SB.showError($("f-error"), { error: "Give the entry a name first." }); $("f-name").focus(); return; }
    $("f-save").disabled = true;
    try {
      var r = await SB.api("PUT", "/admin/api/kb/" + editing.kind + "/" + encodeURIComponent(key), body);
      SB.say("Published version " + r.version + ". It is live within a second.");
      $("f-error").hidden = true;
      await loadKB();
      edit(editing.kind, newName);
      $("kb-version").setAttribute("data-version", String(r.version));
    } catch (e) {
      SB.showError($("f-error"), e);
      $("f-error").focus && $("f-error").setAttribute("tabindex", "-1");
      $("f-error").focus();
    } finally {
      if ($("f-save")) $("f-save").disabled = false;
    }
  }

  async function del() {
    if (!editing || !editing.name) return;
    if (!confirm("Delete " + editing.kind + " " + editing.name + "? You can roll it back from the history.")) return;
    try {
      var r = await SB.api("DELETE", "/admin/api/kb/" + editing.kind + "/" + encodeURIComponent(editing.name) + "?base=" + editing.base);
      SB.say("Deleted. Published version " + r.version + ".");
      $("kb-editor").hidden = true;
      editing = null;
      loadKB();
    } catch (e) { SB.showError($("f-error"), e); }
  }

  $("kb-search").addEventListener("input", renderList);
  $("kb-new-faq").addEventListener("click", function () { edit("faq", ""); });
  $("kb-new-intent").addEventListener("click", function () { edit("intent", ""); });

  async function loadHistory() {
    var ul = clear($("kb-history"));
    try {
      var h = await SB.api("GET", "/admin/api/kb/history");
      h.forEach(function (d, i) {
        ul.appendChild(el("li", { class: "hist" }, el("div", { class: "row" },
          el("strong", { text: "v" + d.version }),
          el("span", { class: "muted", text: SB.when(d.at) + " · " + (d.author || "?") }),
          el("span", { text: d.note || "" }),
          d.version > 1 ? el("button", { type: "button", class: "diff-btn", "data-version": d.version, onclick: function () { showDiff(d.version - 1, d.version); } }, "Diff") : null,
          i > 0 ? el("button", { type: "button", class: "rollback", "data-version": d.version, onclick: function () { rollback(d.version); } }, "Roll back to v" + d.version) : el("span", { class: "badge good", text: "current" }))));
      });
    } catch (e) { SB.showError($("kb-error"), e); }
  }

  async function showDiff(from, to) {
    var box = clear($("kb-diff"));
    box.hidden = false;
    $("kb-editor").hidden = true;
    try {
      var d = await SB.api("GET", "/admin/api/kb/diff?from=" + from + "&to=" + to);
      box.appendChild(el("h2", { text: "Changes from v" + from + " to v" + to }));
      if (!d.changes.length) box.appendChild(el("p", { class: "muted", text: "No changes." }));
      d.changes.forEach(function (c) {
        box.appendChild(el("h3", { text: c.kind + " " + c.entry + (c.name ? " " + c.name : "") + (c.fields && c.fields.length ? " (" + c.fields.join(", ") + ")" : "") }));
        box.appendChild(el("pre", { class: "diff" }, (c.lines || []).map(function (l) {
          var cls = l.slice(0, 2) === "+ " ? "add" : l.slice(0, 2) === "- " ? "del" : "ctx";
          return el("span", { class: cls, text: l });
        })));
      });
    } catch (e) { SB.showError($("kb-error"), e); }
  }

  async function rollback(v) {
    try {
      var r = await SB.api("POST", "/admin/api/kb/rollback", { version: v });
      SB.say("Rolled back: version " + r.version + " has the content of v" + v + ".");
      $("kb-editor").hidden = true;
      editing = null;
      await loadKB();
      $("kb-version").setAttribute("data-version", String(r.version));
    } catch (e) { SB.showError($("kb-error"), e); }
  }

  $("kb-import").addEventListener("click", async function () {
    var f = $("kb-import-file").files[0];
    if (!f) { $("kb-import-file").focus(); return; }
    try {
      var text = await f.text();
      var r = await SB.api("POST", "/admin/api/kb/import?name=" + encodeURIComponent(f.name), text, true);
      SB.say("Imported " + r.intents + " intents and " + r.faq + " FAQ entries as version " + r.version + ".");
      $("kb-error").hidden = true;
      loadKB();
    } catch (e) { SB.showError($("kb-error"), e); }
  });

  loaders.kb = loadKB;

  // ---- Try it ----
  $("try-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var out = clear($("try-out"));
    $("try-error").hidden = true;
    try {
      var d = await SB.api("POST", "/admin/api/try", { text: $("try-text").value, lang: $("try-lang").value, misses: parseInt($("try-misses").value, 10) || 0 });
      function pct(x) { return Math.round((x || 0) * 100) + "%"; }
      out.appendChild(el("dl", { class: "ctx card", id: "try-result" },
        el("dt", { text: "Language" }), el("dd", { id: "try-out-lang", text: d.lang + " (" + pct(d.lang_confidence) + ")" }),
        el("dt", { text: "Intent" }), el("dd", { id: "try-out-intent", text: (d.intent || "—") + " (" + pct(d.confidence) + ")" }),
        el("dt", { text: "Decision" }), el("dd", { id: "try-out-action" }, el("strong", { text: d.action }), d.reason ? " · reason " + d.reason : ""),
        el("dt", { text: "Why" }), el("dd", { id: "try-out-why", text: d.why }),
        el("dt", { text: "Sentiment" }), el("dd", { text: (d.sentiment && d.sentiment.score != null ? d.sentiment.score.toFixed(2) : "") + (d.sentiment && d.sentiment.cues ? " " + d.sentiment.cues.join(", ") : "") }),
        d.answer ? el("dt", { text: "Answer (" + d.answer_lang + ")" }) : null, d.answer ? el("dd", { id: "try-out-answer", class: "summary", text: d.answer }) : null,
        el("dt", { text: "Knowledge base" }), el("dd", { text: "v" + d.version })));
      if (d.top && d.top.length) {
        out.appendChild(el("h3", { text: "Top candidates" }));
        out.appendChild(el("table", { id: "try-top" }, el("thead", null, el("tr", null, el("th", { text: "Intent or FAQ" }), el("th", { text: "Probability" }))),
          el("tbody", null, d.top.map(function (t) {
            return el("tr", null, el("td", { text: t.label }), el("td", null, el("meter", { min: 0, max: 1, value: String(t.prob), "aria-label": t.label }), " " + pct(t.prob)));
          }))));
      }
    } catch (err) { SB.showError($("try-error"), err); }
  });

  // ---- Unanswered ----
  function slug(text) {
    return (text || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").split("-").slice(0, 5).join("-") || "new-entry";
  }
  loaders.unanswered = async function () {
    var box = clear($("un-list"));
    try {
      var d = await SB.api("GET", "/admin/api/unanswered");
      if (!d.groups.length) { box.appendChild(el("p", { class: "muted", text: "Nothing unanswered. Well done." })); return; }
      box.appendChild(el("p", { class: "muted", text: d.total + " messages in " + d.groups.length + " groups." }));
      d.groups.forEach(function (g) {
        box.appendChild(el("section", { class: "card un-group" },
          el("h3", null, el("span", { class: "badge bad", text: g.count + "×" }), " ", g.text),
          el("p", { class: "muted", text: "Language " + (g.lang || "?") + " · last " + SB.when(g.last) + " · " + Object.keys(g.reasons).join(", ") }),
          g.texts.length > 1 ? el("ul", null, g.texts.slice(0, 8).map(function (t) { return el("li", { text: t }); })) : null,
          el("button", { type: "button", class: "primary create-faq", onclick: async function () {
            if (!kb) await loadKB();
            var lang = g.lang || (kb.languages[0] || "en");
            var q = {}; q[lang] = g.texts.slice(0, 10);
            select($("tab-kb"));
            edit("faq", "", { id: slug(g.text), questions: q, answers: {} });
          } }, "Create FAQ from this")));
      });
    } catch (e) { SB.showError(box, e); }
  };

  // ---- Analytics ----
  function fillSelect(sel, values) {
    var v = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    values.forEach(function (x) { sel.appendChild(el("option", { value: x, text: x })); });
    sel.value = v;
  }
  function table(rows) {
    return el("table", null, el("thead", null, el("tr", null, ["", "Conversations", "Deflection", "Handoffs", "CSAT bot", "CSAT humans"].map(function (h) { return el("th", { text: h }); }))),
      el("tbody", null, rows.map(function (r) {
        return el("tr", null, el("td", { text: r.key }), el("td", { text: String(r.conversations) }), el("td", { text: Math.round(r.deflection * 100) + "%" }),
          el("td", { text: String(r.handoffs) }), el("td", { text: r.csat_bot ? r.csat_bot.toFixed(1) : "—" }), el("td", { text: r.csat_human ? r.csat_human.toFixed(1) : "—" }));
      })));
  }
  loaders.analytics = async function () {
    var q = "days=" + $("an-days").value + "&channel=" + encodeURIComponent($("an-channel").value) + "&lang=" + encodeURIComponent($("an-lang").value);
    try {
      var d = await SB.api("GET", "/admin/api/analytics?" + q);
      fillSelect($("an-channel"), d.channels);
      fillSelect($("an-lang"), d.langs);
      var t = d.total;
      function kpi(label, value) { return el("div", { class: "kpi" }, el("b", { text: value }), label); }
      var k = clear($("an-kpis"));
      k.appendChild(kpi("conversations", String(t.conversations)));
      k.appendChild(kpi("deflection (no human)", Math.round(d.deflection * 100) + "%"));
      k.appendChild(kpi("handoffs", String(t.handoffs)));
      k.appendChild(kpi("first human response (median)", SB.dur(t.first_response_s)));
      k.appendChild(kpi("queue wait (median)", SB.dur(t.queue_wait_s)));
      k.appendChild(kpi("resolution (median)", SB.dur(t.resolution_s)));
      k.appendChild(kpi("CSAT bot (" + t.csat_bot_n + ")", t.csat_bot ? t.csat_bot.toFixed(1) : "—"));
      k.appendChild(kpi("CSAT humans (" + t.csat_human_n + ")", t.csat_human ? t.csat_human.toFixed(1) : "—"));
      var c = clear($("an-charts"));
      [["conversations", "Conversations per day"], ["deflection", "Deflection rate per day"], ["handoffs", "Handoffs by reason"],
       ["first-response", "Time to first human response per day"], ["queue-wait", "Queue wait per day"], ["resolution", "Resolution time per day"],
       ["csat", "CSAT, bot against humans"], ["languages", "Conversations by language"], ["channels", "Conversations by channel"]].forEach(function (x) {
        c.appendChild(el("img", { src: "/admin/chart/" + x[0] + ".svg?" + q + "&t=" + Date.now(), alt: x[1], loading: "lazy" }));
      });
      clear($("an-by-lang")).appendChild(table(d.by_lang));
      clear($("an-by-channel")).appendChild(table(d.by_channel));
    } catch (e) { SB.showError($("an-kpis"), e); }
  };
  ["an-days", "an-channel", "an-lang"].forEach(function (id) { $(id).addEventListener("change", loaders.analytics); });

  // ---- Settings ----
  var settings = null;
  loaders.settings = async function () {
    var f = clear($("settings-form"));
    try {
      settings = await SB.api("GET", "/admin/api/settings");
    } catch (e) { SB.showError(f, e); return; }
    var s = settings.settings;
    function sel(id, label, val, opts) {
      return field(id, label, el("select", null, opts.map(function (o) { return el("option", { value: o[0], text: o[1], selected: o[0] === val }); })));
    }
    var weekly = Object.keys(s.weekly || {}).map(function (k) { return k + " = " + s.weekly[k]; }).join("\n");
    f.appendChild(el("div", { class: "grid2" },
      sel("s-routing", "Routing", s.routing, [["broadcast", "Broadcast: every agent sees it, first to claim wins"], ["assign", "Assign: one available agent by skill, language and load"]]),
      sel("s-after", "After hours", s.after_hours, [["wait", "Keep the customer in the queue"], ["contact", "Also ask for an email or phone number"]]),
      field("s-renotify", "SLA: remind agents after", el("input", { value: s.renotify_after || "" })),
      field("s-escalate", "SLA: escalate after", el("input", { value: s.escalate_after || "" })),
      field("s-update", "Tell customers their place at most every", el("input", { value: s.update_every || "" })),
      field("s-target", "Target for the first human response", el("input", { value: s.first_response_target || "", placeholder: "e.g. 5m" })),
      field("s-tz", "Time zone of the opening hours (IANA)", el("input", { value: s.timezone || "", placeholder: "Europe/Oslo" }))));
    f.appendChild(field("s-weekly", "Opening hours, one line per day or range (empty: always open)", ta(weekly, 4)));
    f.lastChild.appendChild(el("span", { class: "muted", text: "Example: mon-fri = 08:00-16:00 and sat = 10:00-14:00" }));
    f.appendChild(field("s-holidays", "Holidays (YYYY-MM-DD, one per line)", ta((s.holidays || []).join("\n"), 2)));
    f.appendChild(el("div", { class: "error", id: "s-error", role: "alert", hidden: true }));
    f.appendChild(el("p", { class: "muted", text: settings.live ? "Saved settings apply at once." : "The desk reads these settings when it starts: saved changes apply after the next restart." }));
    f.appendChild(el("button", { type: "submit", class: "primary", id: "s-save" }, "Save settings"));
    f.onsubmit = async function (e) {
      e.preventDefault();
      var w = {};
      lines($("s-weekly").value).forEach(function (l) { var i = l.indexOf("="); if (i > 0) w[l.slice(0, i).trim()] = l.slice(i + 1).trim(); });
      var ns = { routing: $("s-routing").value, after_hours: $("s-after").value, renotify_after: $("s-renotify").value.trim(),
        escalate_after: $("s-escalate").value.trim(), update_every: $("s-update").value.trim(), first_response_target: $("s-target").value.trim(),
        timezone: $("s-tz").value.trim(), weekly: w, holidays: lines($("s-holidays").value) };
      try {
        var r = await SB.api("PUT", "/admin/api/settings", { base: settings.version, settings: ns });
        SB.say("Settings saved (version " + r.version + ")" + (r.live ? " and applied." : "; they apply after a restart."));
        loaders.settings();
      } catch (err) { SB.showError($("s-error"), err); }
    };
  };

  // ---- Status notices ----
  var notices = null;
  function localInput(t) {
    if (!t || t.indexOf("0001-01-01") === 0) return "";
    var d = new Date(t);
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }
  function renderNotices() {
    var box = clear($("notices-list"));
    if (!notices.notices.length) box.appendChild(el("p", { class: "muted", text: "No status notice." }));
    var langs = kb ? kb.languages : ["en"];
    notices.notices.forEach(function (n, i) {
      var active = new Date(n.start) <= new Date() && (!n.end || n.end.indexOf("0001") === 0 || new Date(n.end) > new Date());
      var fs = el("fieldset", { class: "editor notice", "data-i": i }, el("legend", { text: "Notice " + (i + 1) + (n.id ? " (" + n.id + ")" : "") + (active ? " · active now" : "") }));
      langs.forEach(function (l) {
        fs.appendChild(field("n-" + i + "-text-" + l, "Text in " + langName(l), ta((n.texts || {})[l], 2)));
      });
      fs.appendChild(el("div", { class: "grid2" },
        field("n-" + i + "-start", "Start", el("input", { type: "datetime-local", value: localInput(n.start) })),
        field("n-" + i + "-end", "End (empty: until removed)", el("input", { type: "datetime-local", value: localInput(n.end) })),
        field("n-" + i + "-intents", "Topics: intents or faq:ID, comma-separated (empty: every answer)", el("input", { value: (n.intents || []).join(", ") }))));
      fs.appendChild(el("button", { type: "button", class: "danger", onclick: function () { readNotices(); notices.notices.splice(i, 1); renderNotices(); } }, "Remove notice " + (i + 1)));
      box.appendChild(fs);
    });
  }
  function readNotices() {
    var langs = kb ? kb.languages : ["en"];
    notices.notices = notices.notices.map(function (n, i) {
      var texts = {};
      langs.forEach(function (l) { var v = $("n-" + i + "-text-" + l).value.trim(); if (v) texts[l] = v; });
      var s = $("n-" + i + "-start").value, e = $("n-" + i + "-end").value;
      return { id: n.id, texts: texts, start: s ? new Date(s).toISOString() : undefined, end: e ? new Date(e).toISOString() : undefined,
        intents: $("n-" + i + "-intents").value.split(",").map(function (x) { return x.trim(); }).filter(Boolean) };
    });
  }
  loaders.notices = async function () {
    if (!kb) await loadKB();
    try {
      notices = await SB.api("GET", "/admin/api/notices");
      renderNotices();
    } catch (e) { SB.showError($("notices-error"), e); }
  };
  $("notice-add").addEventListener("click", function () {
    readNotices();
    notices.notices.push({ texts: {}, start: new Date().toISOString(), intents: [] });
    renderNotices();
  });
  $("notices-save").addEventListener("click", async function () {
    readNotices();
    try {
      var r = await SB.api("PUT", "/admin/api/notices", { base: notices.version, notices: notices.notices });
      SB.say("Notices published (version " + r.version + ").");
      $("notices-error").hidden = true;
      loaders.notices();
    } catch (e) { SB.showError($("notices-error"), e); }
  });

  // ---- Audit ----
  loaders.audit = async function () {
    var box = clear($("audit-list"));
    try {
      var rows = await SB.api("GET", "/admin/api/audit");
      box.appendChild(el("table", { id: "audit-table" }, el("thead", null, el("tr", null, ["When", "Who", "What", "Document"].map(function (h) { return el("th", { text: h }); }))),
        el("tbody", null, rows.map(function (a) {
          return el("tr", null, el("td", { text: SB.when(a.at) }), el("td", { text: a.author || "?" }), el("td", { text: a.note || "" }), el("td", { text: a.doc + " v" + a.version }));
        }))));
    } catch (e) { SB.showError(box, e); }
  };

  // ---- Accounts ----
  loaders.accounts = async function () {
    var box = clear($("accounts-list"));
    try {
      var rows = await SB.api("GET", "/admin/api/accounts");
      box.appendChild(el("table", null, el("thead", null, el("tr", null, ["User", "Name", "Role", "Created"].map(function (h) { return el("th", { text: h }); }))),
        el("tbody", null, rows.map(function (a) {
          return el("tr", null, el("td", { text: a.User }), el("td", { text: a.Name }), el("td", { text: a.Role }), el("td", { text: SB.when(a.Created) }));
        }))));
    } catch (e) { SB.showError(box, e); }
  };
  $("account-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    try {
      await SB.api("POST", "/admin/api/accounts", { user: $("acc-user").value, name: $("acc-name").value, role: $("acc-role").value,
        password: $("acc-password").value, reset: $("acc-reset").checked });
      SB.say("Account saved.");
      $("acc-error").hidden = true;
      $("acc-password").value = "";
      loaders.accounts();
    } catch (err) { SB.showError($("acc-error"), err); }
  });

  SB.init().then(function (me) {
    if (!me) return;
    var h = location.hash.slice(1);
    var t = h && $("tab-" + h);
    if (t && t.id !== "tab-kb") select(t);
    loadKB().then(function () { document.body.setAttribute("data-ready", "1"); });
  });
})();
