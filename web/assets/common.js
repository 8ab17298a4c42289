// Shared helpers of the inbox and the console. Every text is inserted with
// textContent (el's children), never as HTML.
"use strict";
var SB = (function () {
  var me = null;

  // el("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child…)
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v == null || v === false) return;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k === "for") e.htmlFor = v;
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
        else if (k === "value") e.value = v;
        else if (k === "checked" || k === "disabled" || k === "hidden" || k === "selected") e[k] = !!v;
        else e.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x != null) e.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
      else e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  async function init() {
    var r = await fetch("/api/me", { headers: { Accept: "application/json" } });
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return null; }
    me = await r.json();
    var who = document.getElementById("who");
    if (who) who.textContent = me.name + " (" + me.role + ")";
    var out = document.getElementById("logout");
    if (out) out.addEventListener("click", async function () {
      await api("POST", "/logout", {});
      location.href = "/login";
    });
    return me;
  }

  // api calls the server with the CSRF token; errors throw {status, error, errors}.
  async function api(method, url, body, raw) {
    var opts = { method: method, headers: { Accept: "application/json" } };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = me ? me.csrf : "";
    if (body !== undefined) {
      if (raw) { opts.body = body; opts.headers["Content-Type"] = "application/octet-stream"; }
      else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    }
    var r = await fetch(url, opts);
    var data = null;
    try { data = await r.json(); } catch (e) { /* empty */ }
    if (!r.ok) throw { status: r.status, error: (data && data.error) || r.statusText, errors: (data && data.errors) || [] };
    return data;
  }

  function say(msg) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    clearTimeout(t._h);
    t._h = setTimeout(function () { t.textContent = ""; }, 4000);
  }

  // showError fills box (role=alert) with err's message and per-key problems.
  function showError(box, err) {
    clear(box);
    box.hidden = false;
    box.appendChild(el("p", { text: err.error || String(err) }));
    if (err.errors && err.errors.length) {
      box.appendChild(el("ul", { class: "problems" }, err.errors.map(function (p) {
        return el("li", null, p.key ? el("code", { text: p.key }) : null, p.key ? ": " : "", p.message);
      })));
    }
  }

  function dur(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  }
  function since(t) { return dur((Date.now() - new Date(t).getTime()) / 1000); }
  function when(t) { return t ? new Date(t).toLocaleString() : ""; }

  return { el: el, clear: clear, init: init, api: api, say: say, showError: showError, dur: dur, since: since, when: when,
    me: function () { return me; } };
})();
