/* supportbot chat widget. Embed with one tag:
 *   <script src="https://support.example.com/widget.js" data-title="Chat with us" defer></script>
 * Optional attributes: data-title, data-name (visitor name), data-open="true"
 * (start opened), data-placeholder, data-human-label, data-lang (the widget's
 * own labels: en, nb, sv, da, sr, de, fr, es; default the page's <html lang>,
 * then the browser's language).
 * Plain JavaScript, no dependencies. All text is inserted with textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__supportbotWidget) return;
  window.__supportbotWidget = true;
  var ds = script.dataset || {};
  var base = new URL(script.src, location.href);
  var wsURL = (base.protocol === "https:" ? "wss:" : "ws:") + "//" + base.host + "/chat/ws";
  var key = "supportbot:" + base.host;

  // Durable state: the visitor's session and messages not yet acknowledged.
  var mem = {};
  function load() {
    try { return JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { return mem; }
  }
  function save(s) {
    mem = s;
    try { localStorage.setItem(key, JSON.stringify(s)); } catch (e) { /* private mode */ }
  }
  var state = load();
  state.outbox = state.outbox || [];
  var after = 0; // last transcript seq shown in this page

  // The widget's own labels, in the page's language. The bot's and the
  // agents' messages come in the customer's language from the server.
  var TEXT = {
    en: ["Chat with us", "Close chat", "Conversation", "Send a message", "Your message", "Write your question\u2026",
      "Enter sends, Shift+Enter starts a new line.", "Send", "Talk to a person", "Hide chat", "typing\u2026",
      "You said:", "%s said:", "Bot said:", "Update:", "Agent", "Rate this conversation", "Suggestions",
      "Rate %s out of 5", "You are chatting with %s.", "Sending:", "You're writing very fast; please wait a moment.",
      "Connection lost. Reconnecting\u2026"],
    nb: ["Chat med oss", "Lukk chatten", "Samtale", "Send en melding", "Din melding", "Skriv spørsmålet ditt\u2026",
      "Enter sender, Shift+Enter gir ny linje.", "Send", "Snakk med et menneske", "Skjul chatten", "skriver\u2026",
      "Du skrev:", "%s skrev:", "Boten skrev:", "Oppdatering:", "Kundebehandler", "Vurder samtalen", "Forslag",
      "Gi %s av 5", "Du chatter med %s.", "Sender:", "Du skriver veldig fort; vent litt.",
      "Forbindelsen ble brutt. Kobler til igjen\u2026"],
    sv: ["Chatta med oss", "Stäng chatten", "Konversation", "Skicka ett meddelande", "Ditt meddelande", "Skriv din fråga\u2026",
      "Enter skickar, Skift+Enter ger ny rad.", "Skicka", "Prata med en människa", "Dölj chatten", "skriver\u2026",
      "Du skrev:", "%s skrev:", "Boten skrev:", "Uppdatering:", "Handläggare", "Betygsätt samtalet", "Förslag",
      "Ge %s av 5", "Du chattar med %s.", "Skickar:", "Du skriver väldigt snabbt; vänta lite.",
      "Anslutningen bröts. Ansluter igen\u2026"],
    da: ["Chat med os", "Luk chatten", "Samtale", "Send en besked", "Din besked", "Skriv dit spørgsmål\u2026",
      "Enter sender, Shift+Enter giver ny linje.", "Send", "Tal med et menneske", "Skjul chatten", "skriver\u2026",
      "Du skrev:", "%s skrev:", "Botten skrev:", "Opdatering:", "Medarbejder", "Bedøm samtalen", "Forslag",
      "Giv %s ud af 5", "Du chatter med %s.", "Sender:", "Du skriver meget hurtigt; vent et øjeblik.",
      "Forbindelsen blev afbrudt. Forbinder igen\u2026"],
    sr: ["Pišite nam", "Zatvori razgovor", "Razgovor", "Pošaljite poruku", "Vaša poruka", "Napišite pitanje\u2026",
      "Enter šalje, Shift+Enter prelazi u novi red.", "Pošalji", "Razgovor sa osobom", "Sakrij razgovor", "kuca\u2026",
      "Vi ste napisali:", "Poruka od %s:", "Poruka bota:", "Obaveštenje:", "Operater", "Ocenite razgovor", "Predlozi",
      "Ocena %s od 5", "Razgovarate sa: %s.", "Šalje se:", "Pišete veoma brzo; sačekajte trenutak.",
      "Veza je prekinuta. Ponovno povezivanje\u2026"],
    de: ["Chatten Sie mit uns", "Chat schließen", "Unterhaltung", "Nachricht senden", "Ihre Nachricht", "Ihre Frage\u2026",
      "Enter sendet, Umschalt+Enter beginnt eine neue Zeile.", "Senden", "Mit einem Menschen sprechen", "Chat ausblenden", "schreibt\u2026",
      "Sie schrieben:", "%s schrieb:", "Der Bot schrieb:", "Hinweis:", "Mitarbeiter", "Gespräch bewerten", "Vorschläge",
      "%s von 5 geben", "Sie chatten mit %s.", "Wird gesendet:", "Sie schreiben sehr schnell; bitte warten Sie einen Moment.",
      "Verbindung unterbrochen. Verbinde neu\u2026"],
    fr: ["Discutez avec nous", "Fermer la discussion", "Conversation", "Envoyer un message", "Votre message", "Écrivez votre question\u2026",
      "Entrée envoie, Maj+Entrée crée une nouvelle ligne.", "Envoyer", "Parler à une personne", "Masquer la discussion", "écrit\u2026",
      "Vous avez écrit :", "%s a écrit :", "Le bot a écrit :", "Information :", "Conseiller", "Évaluer la conversation", "Suggestions",
      "Noter %s sur 5", "Vous discutez avec %s.", "Envoi :", "Vous écrivez très vite ; patientez un instant.",
      "Connexion perdue. Reconnexion\u2026"],
    es: ["Chatea con nosotros", "Cerrar el chat", "Conversación", "Enviar un mensaje", "Tu mensaje", "Escribe tu pregunta\u2026",
      "Intro envía, Mayús+Intro crea una línea nueva.", "Enviar", "Hablar con una persona", "Ocultar el chat", "escribiendo\u2026",
      "Escribiste:", "%s escribió:", "El bot escribió:", "Aviso:", "Agente", "Valora la conversación", "Sugerencias",
      "Dar %s de 5", "Estás hablando con %s.", "Enviando:", "Escribes muy rápido; espera un momento.",
      "Conexión perdida. Reconectando\u2026"]
  };
  var KEYS = ["title", "close", "conversation", "sendMessage", "yourMessage", "placeholder", "hint", "send", "human",
    "hide", "typing", "youSaid", "said", "botSaid", "update", "agent", "rate", "suggestions", "rateN", "chattingWith",
    "sending", "slow", "lost"];
  function pickLang(tag) {
    var l = String(tag || "").toLowerCase().split(/[-_]/)[0];
    if (l === "no" || l === "nn") l = "nb";
    return TEXT[l] ? l : "en";
  }
  var lang = pickLang(ds.lang || document.documentElement.lang || navigator.language);
  function t(k, arg) {
    var s = TEXT[lang][KEYS.indexOf(k)];
    return arg == null ? s : s.replace("%s", arg);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function newID() {
    var b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // Stylesheet from the widget's own server.
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("/widget.css", base).href;
  document.head.appendChild(css);

  var title = ds.title || t("title");
  var root = el("div", "sbw");
  root.id = "supportbot-widget";
  var launcher = el("button", "sbw-launcher", title);
  launcher.type = "button";
  launcher.id = "sbw-launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "sbw-panel");

  var panel = el("section", "sbw-panel");
  panel.id = "sbw-panel";
  panel.hidden = true;
  panel.setAttribute("aria-labelledby", "sbw-title");

  var head = el("header", "sbw-head");
  var h = el("h2", "sbw-title", title);
  h.id = "sbw-title";
  var close = el("button", "sbw-close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", t("close"));
  head.appendChild(h);
  head.appendChild(close);

  var status = el("p", "sbw-status");
  status.id = "sbw-status";
  status.setAttribute("role", "status");
  var conn = el("p", "sbw-conn");
  conn.id = "sbw-conn";
  conn.setAttribute("aria-live", "polite");

  var log = el("div", "sbw-log");
  log.id = "sbw-log";
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", t("conversation"));
  log.tabIndex = 0;

  var typing = el("p", "sbw-typing", t("typing"));
  typing.hidden = true;
  typing.setAttribute("aria-hidden", "true");

  var form = el("form", "sbw-form");
  form.setAttribute("aria-label", t("sendMessage"));
  var label = el("label", "sbw-sr", t("yourMessage"));
  label.htmlFor = "sbw-input";
  var input = el("textarea", "sbw-input");
  input.id = "sbw-input";
  input.rows = 2;
  input.maxLength = 4000;
  input.placeholder = ds.placeholder || t("placeholder");
  input.setAttribute("aria-describedby", "sbw-hint");
  var hint = el("span", "sbw-sr", t("hint"));
  hint.id = "sbw-hint";
  var send = el("button", "sbw-send", t("send"));
  send.type = "submit";
  send.id = "sbw-send";
  var human = el("button", "sbw-human", ds.humanLabel || t("human"));
  human.type = "button";
  human.id = "sbw-human";
  form.appendChild(label);
  form.appendChild(hint);
  form.appendChild(input);
  form.appendChild(send);

  var tools = el("div", "sbw-tools");
  tools.appendChild(human);

  panel.appendChild(head);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(conn);
  panel.appendChild(tools);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.textContent = open ? t("hide") : title;
    state.open = open;
    save(state);
    if (open) {
      input.focus();
      connect();
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  // Text with http(s) links made clickable, built from text nodes only.
  var urlRE = /https?:\/\/[^\s<>"']+/g;
  function richText(parent, text) {
    var last = 0, m;
    urlRE.lastIndex = 0;
    while ((m = urlRE.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?)]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", null, url);
      try {
        var u = new URL(url);
        if (u.protocol === "http:" || u.protocol === "https:") {
          a.href = u.href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        }
      } catch (e) { /* leave as text */ }
      parent.appendChild(a);
      last = m.index + url.length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function disableOldChoices() {
    var bs = log.querySelectorAll(".sbw-choices button");
    for (var i = 0; i < bs.length; i++) bs[i].disabled = true;
  }

  function render(m) {
    if (m.role === "customer" && m.id) {
      var mine = log.querySelector('[data-id="' + CSS.escape(m.id) + '"]');
      if (mine) { // shown when sent: now confirmed
        mine.classList.remove("sbw-pending");
        mine.querySelector(".sbw-sr").textContent = t("youSaid");
        return;
      }
    }
    var row = el("div", "sbw-msg sbw-" + (m.role || "bot") + (m.kind ? " sbw-k-" + m.kind : ""));
    var who = m.role === "customer" ? t("youSaid") : m.role === "agent" ? t("said", m.author || t("agent")) : t("botSaid");
    if (m.kind === "queue" || m.kind === "notice") who = t("update");
    row.appendChild(el("span", "sbw-sr", who));
    if (m.role === "agent") row.appendChild(el("span", "sbw-author", m.author || t("agent")));
    var body = el("div", "sbw-text");
    richText(body, m.text || "");
    row.appendChild(body);
    if (m.id) row.setAttribute("data-id", m.id);
    if (m.seq) row.setAttribute("data-seq", String(m.seq));
    if (m.choices && m.choices.length) {
      disableOldChoices();
      var cs = el("div", "sbw-choices");
      cs.setAttribute("role", "group");
      cs.setAttribute("aria-label", m.kind === "csat" ? t("rate") : t("suggestions"));
      m.choices.forEach(function (c) {
        var b = el("button", "sbw-choice", c.label);
        b.type = "button";
        if (m.kind === "csat") b.setAttribute("aria-label", t("rateN", c.label));
        b.addEventListener("click", function () {
          disableOldChoices();
          sendText(c.value, c.label, false);
        });
        cs.appendChild(b);
      });
      row.appendChild(cs);
    }
    log.appendChild(row);
    scroll();
  }

  function updateStatus(m) {
    var ev = m.meta && m.meta.event;
    if (m.role === "agent" && m.author) status.textContent = t("chattingWith", m.author);
    else if (m.kind === "queue") status.textContent = m.text;
    else if (ev === "joined") status.textContent = m.text;
    else if (ev === "resolved" || ev === "left") status.textContent = "";
    // "Talk to a person" is moot while waiting for or talking with one; a
    // person joining also retires the queue's buttons ("leave the queue").
    if (m.kind === "queue" || m.role === "agent" || ev === "joined") human.hidden = true;
    else if (ev === "resolved" || ev === "left" || m.kind === "answer" || m.kind === "suggest") human.hidden = false;
    if (ev === "joined") disableOldChoices();
  }

  function showPending(item) {
    var row = el("div", "sbw-msg sbw-customer sbw-pending");
    row.setAttribute("data-id", item.id);
    row.appendChild(el("span", "sbw-sr", t("sending")));
    var body = el("div", "sbw-text");
    body.textContent = item.label || item.text;
    row.appendChild(body);
    log.appendChild(row);
    scroll();
  }

  var ws = null, retry = 0, timer = null, connected = false;

  function transmit(item) {
    if (ws && connected) {
      ws.send(JSON.stringify({ type: "msg", id: item.id, text: item.text, human: !!item.human }));
    }
  }

  function sendText(text, shown, isHuman) {
    text = (text || "").trim();
    if (!text) return;
    var item = { id: newID(), text: text, label: shown || text, human: !!isHuman };
    state.outbox.push(item);
    save(state);
    showPending(item);
    connect();
    transmit(item);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value;
    input.value = "";
    sendText(t, null, false);
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  human.addEventListener("click", function () { sendText("I'd like to talk to a person.", null, true); });

  function onFrame(f) {
    switch (f.type) {
      case "hello":
        if (state.sid !== f.sid) { state.sid = f.sid; save(state); }
        // Send what was never acknowledged; the server drops repeats.
        state.outbox.forEach(transmit);
        break;
      case "reset":
        log.textContent = "";
        after = 0;
        break;
      case "typing":
        typing.hidden = false;
        clearTimeout(typing._t);
        typing._t = setTimeout(function () { typing.hidden = true; }, 4000);
        break;
      case "msg":
        if (f.seq) {
          if (f.seq <= after) return; // already shown
          after = f.seq;
        }
        if (f.role !== "customer") typing.hidden = true;
        if (f.role === "customer" && f.id) {
          state.outbox = state.outbox.filter(function (x) { return x.id !== f.id; });
          save(state);
        }
        render(f);
        updateStatus(f);
        break;
      case "error":
        conn.textContent = f.error === "slow down" ? t("slow") : "";
        break;
    }
  }

  function connect() {
    if (ws || timer) return;
    var s = new WebSocket(wsURL);
    ws = s;
    s.onopen = function () {
      connected = true;
      retry = 0;
      conn.textContent = "";
      root.classList.add("sbw-online");
      s.send(JSON.stringify({ type: "hello", sid: state.sid || "", after: after, name: ds.name || "" }));
    };
    s.onmessage = function (ev) {
      try { onFrame(JSON.parse(ev.data)); } catch (e) { /* ignore a bad frame */ }
    };
    s.onclose = function () {
      var was = connected;
      ws = null;
      connected = false;
      root.classList.remove("sbw-online");
      var wait = Math.min(10000, 500 * Math.pow(2, retry++)) * (0.75 + Math.random() / 2);
      if (was || retry > 1) conn.textContent = t("lost");
      timer = setTimeout(function () { timer = null; connect(); }, wait);
    };
  }

  function mount() {
    document.body.appendChild(root);
    if (ds.open === "true" || state.open) setOpen(true);
    else if (state.sid) connect();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // For the embedding page: SupportBot.open(), SupportBot.close().
  window.SupportBot = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); }
  };
})();
