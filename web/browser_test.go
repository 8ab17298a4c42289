package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/intents"
)

// The browser tests drive Debian's Chromium (headless) through chromedp
// against the real stack. One browser serves every scenario; each person
// (customer, agent, admin) has a browser context of their own, so their
// cookies and storage are apart, as on separate computers.

// step bounds one browser step; a hung page fails the test instead of the run.
const step = slow * 20 * time.Second

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SUPPORTBOT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("SUPPORTBOT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testartifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts one headless Chromium for the test.
func browser(t *testing.T) context.Context {
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// person is one browser context (its own cookies and storage) with one tab.
type person struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string

	mu     sync.Mutex
	thrown []string // uncaught JavaScript exceptions
}

func (p *person) exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.thrown...)
}

func newPerson(t *testing.T, bctx context.Context, name, base string) *person {
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &person{t: t, name: name, ctx: ctx, base: base}
	// The first action opens the tab, which lives as long as the context
	// given to it: so p.ctx itself, not a context with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	thrown := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range thrown {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, d.Text)
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.mu.Lock()
			p.thrown = append(p.thrown, msg)
			p.mu.Unlock()
		}
	}()
	return p
}

// do runs steps within the step timeout, failing the test on error.
func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failure-" + p.name + "-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](p *person, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, js, err)
	}
	return v
}

// wait polls a JavaScript predicate until it is truthy.
func (p *person) wait(what, js string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.shot("failure-" + p.name + "-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatalf("%s: waiting for %s: %v", p.name, what, err)
	}
}

// click clicks the first element matching sel once it exists. Finding and
// clicking happen in one script run, so a list that re-renders between the
// two (the console reloads lists on every tab switch and poll) cannot leave
// a stale node behind.
func (p *person) click(sel string) {
	p.t.Helper()
	p.wait("to click "+sel, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e || e.offsetParent === null) return false; e.click(); return true; })()`, sel))
}

func (p *person) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

func (p *person) shot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactsDir(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

// login signs in on the login page and waits for the page it leads to.
func (p *person) login(user, password, next, ready string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base+"/login?next="+next),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(ready)))
}

// customer helpers: the widget on the demo page.

func (p *person) openWidget() {
	p.do(chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(chromedp.ID("sbw-launcher")),
		chromedp.Click(chromedp.ID("sbw-launcher")),
		chromedp.WaitVisible(chromedp.ID("sbw-input")))
	p.wait("the widget to connect", `document.querySelector("#supportbot-widget.sbw-online") !== null`)
}

const botMsgs = `document.querySelectorAll("#sbw-log .sbw-msg:not(.sbw-customer)")`

// ask types text into the widget, sends it with the keyboard and returns
// the text of the first new message from the bot or an agent.
func (p *person) ask(text string) (kind, reply string) {
	p.t.Helper()
	n := eval[int](p, botMsgs+`.length`)
	p.do(chromedp.SendKeys(chromedp.ID("sbw-input"), text), chromedp.SendKeys(chromedp.ID("sbw-input"), "\r"))
	p.wait("a reply to "+text, fmt.Sprintf(`%s.length > %d`, botMsgs, n))
	out := eval[[]string](p, fmt.Sprintf(`(() => { const m = %s[%d]; return [m.className, m.querySelector(".sbw-text").textContent]; })()`, botMsgs, n))
	return out[0], out[1]
}

func TestBrowser(t *testing.T) {
	start := time.Now()
	bctx := browser(t)
	t.Logf("browser up in %v", time.Since(start))
	s := newStack(t)
	t.Logf("stack up in %v", time.Since(start))
	base := s.srv.URL
	cust := newPerson(t, bctx, "customer", base)
	agent := newPerson(t, bctx, "agent", base)
	admin := newPerson(t, bctx, "admin", base)

	t.Run("CustomerAsksBotAnswers", func(t *testing.T) {
		cust.t = t
		cust.openWidget()
		// Screen readers: a live log, a labelled input and buttons.
		if got := eval[string](cust, `document.getElementById("sbw-log").getAttribute("role") + "/" + document.getElementById("sbw-log").getAttribute("aria-live")`); got != "log/polite" {
			t.Errorf("log role/aria-live = %q", got)
		}
		if got := eval[string](cust, `document.querySelector('label[for="sbw-input"]').textContent`); got == "" {
			t.Error("the message box has no label")
		}
		kind, reply := cust.ask("how long does delivery take?")
		if !strings.Contains(kind, "sbw-k-answer") || !strings.Contains(reply, "business days") {
			t.Fatalf("reply %q (%s), want the delivery-time answer", reply, kind)
		}
	})

	t.Run("HandoffClaimReplyResolveRate", func(t *testing.T) {
		cust.t, agent.t = t, t
		agent.login(testAgent, testAgentPassword, "/inbox", "body[data-ready]")
		agent.do(chromedp.Click(chromedp.CSS(`#status button[data-status="on"]`)))
		agent.wait("availability on", `document.querySelector('#status button[data-status="on"]').getAttribute("aria-pressed") === "true"`)

		kind, reply := cust.ask("human")
		if !strings.Contains(kind, "sbw-k-queue") {
			t.Fatalf("after \"human\": %q (%s), want the queue notice", reply, kind)
		}
		cust.wait("the queue position", `/queue/.test(document.getElementById("sbw-status").textContent)`)
		cust.wait("no \"Talk to a person\" while waiting for one", `document.getElementById("sbw-human").offsetParent === null`)

		// The agent sees the conversation waiting, first in line.
		agent.wait("the waiting conversation", `document.querySelector("#queue .qitem") !== null`)
		if item := agent.text("#queue .qitem .name"); !strings.HasPrefix(item, "#1 ") {
			t.Errorf("queue item %q, want position #1", item)
		}
		agent.click("#queue .qitem")
		agent.wait("the card", `document.getElementById("ctx-summary") !== null && !document.getElementById("claim").disabled`)
		if reason := agent.text("#ctx-body dl"); !strings.Contains(reason, "requested") {
			t.Errorf("context panel %q, want the handoff reason", reason)
		}
		agent.do(chromedp.Click(chromedp.ID("claim")))
		cust.wait("the agent's name", `/Ada/.test(document.getElementById("sbw-status").textContent)`)
		cust.wait("the queue's buttons retired once Ada joined", `document.querySelectorAll("#sbw-log .sbw-k-queue .sbw-choice:not(:disabled)").length === 0`)
		agent.wait("the claim", `document.querySelector("#mine .qitem") !== null`)

		// The agent replies; the customer sees it with the agent's name.
		agent.do(chromedp.SendKeys(chromedp.ID("reply-text"), "Hi, I'm Ada. How can I help?"), chromedp.Click(chromedp.ID("send-reply")))
		cust.wait("the agent's reply", `[...document.querySelectorAll("#sbw-log .sbw-agent")].some(m => m.textContent.includes("How can I help?") && m.querySelector(".sbw-author").textContent === "Ada")`)
		cust.shot("widget")

		// An XSS attempt from the customer is text for the agent.
		const evil = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b id="inj">bold</b>`
		cust.do(chromedp.SendKeys(chromedp.ID("sbw-input"), evil), chromedp.Click(chromedp.ID("sbw-send")))
		agent.wait("the customer's message", `[...document.querySelectorAll("#log .msg.customer")].some(m => m.textContent.includes("<img src=x"))`)
		cust.wait("the message confirmed", `document.querySelector("#sbw-log .sbw-pending") === null`)
		for _, p := range []*person{cust, agent} {
			if bad := eval[bool](p, `window.__xss !== undefined || document.querySelector("#inj, #log img, #sbw-log img, #log script, #sbw-log script") !== null`); bad {
				t.Errorf("%s: the customer's markup was interpreted", p.name)
			}
		}
		// An internal note stays with the agents.
		agent.do(chromedp.SendKeys(chromedp.ID("reply-text"), "customer seems fine"), chromedp.Click(chromedp.ID("send-note")))
		agent.wait("the note", `[...document.querySelectorAll("#log .msg.note")].some(m => m.textContent.includes("customer seems fine"))`)
		agent.shot("inbox")

		// Resolve, then the customer rates.
		agent.do(chromedp.Click(chromedp.ID("resolve")))
		cust.wait("the CSAT question", `document.querySelectorAll("#sbw-log .sbw-k-csat .sbw-choice:not(:disabled)").length === 5`)
		cust.wait("\"Talk to a person\" back once resolved", `document.getElementById("sbw-human").offsetParent !== null`)
		if got := eval[string](cust, `document.querySelectorAll("#sbw-log .sbw-k-csat .sbw-choice")[4].getAttribute("aria-label")`); got != "Rate 5 out of 5" {
			t.Errorf("CSAT button label %q", got)
		}
		if bad := eval[bool](cust, `[...document.querySelectorAll("#sbw-log .sbw-msg")].some(m => m.textContent.includes("customer seems fine"))`); bad {
			t.Error("the customer sees the agent's internal note")
		}
		n := eval[int](cust, botMsgs+`.length`)
		cust.do(chromedp.Click(chromedp.CSS("#sbw-log .sbw-k-csat .sbw-choice:nth-child(5)")))
		cust.wait("the thanks", fmt.Sprintf(`%s.length > %d`, botMsgs, n))
		eventually(t, "a csat event with score 5 by an agent", func() bool {
			evs, err := s.st.Events(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Type == "csat" && e.Value == 5 && e.Meta["by_agent"] == "true" {
					return true
				}
			}
			return false
		})
	})

	// A second customer, so the first one's CSAT comment turn is not in the way.
	cust2 := newPerson(t, bctx, "customer2", base)

	var firstVersion int64
	t.Run("AdminAddsFAQLiveWithoutRestart", func(t *testing.T) {
		admin.t, cust2.t = t, t
		admin.login(testAdmin, testAdminPassword, "/admin", "body[data-ready]")
		admin.do(chromedp.Click(chromedp.ID("kb-new-faq")), chromedp.WaitVisible(chromedp.ID("f-name")),
			chromedp.SendKeys(chromedp.ID("f-name"), "giraffe-socks"),
			chromedp.SendKeys(chromedp.ID("f-q-en"), "do you sell giraffe socks?\rare there socks with giraffes\rgiraffe socks\rI want socks with a giraffe pattern"),
			chromedp.SendKeys(chromedp.ID("f-ans-en"), `Yes! Giraffe socks are in the Zoo collection. <img src=x onerror="window.__xss=3"><b id="inj2">x</b>`),
			chromedp.Click(chromedp.ID("f-save")))
		admin.wait("the publish", `document.getElementById("kb-version").hasAttribute("data-version")`)
		firstVersion = int64(eval[int](admin, `+document.getElementById("kb-version").getAttribute("data-version")`))
		waitLive(t, s, firstVersion)

		cust2.openWidget()
		_, reply := cust2.ask("do you sell giraffe socks?")
		if !strings.Contains(reply, "Zoo collection") {
			t.Fatalf("reply %q, want the new FAQ answer", reply)
		}
		// The FAQ answer's markup is text in the widget...
		if !strings.Contains(reply, `<img src=x`) || eval[bool](cust2, `window.__xss !== undefined || document.querySelector("#inj2, #sbw-log img") !== null`) {
			t.Error("the FAQ answer's markup was interpreted in the widget")
		}
		// ...and in the console's Try it.
		admin.do(chromedp.Click(chromedp.ID("tab-try")), chromedp.WaitVisible(chromedp.ID("try-text")),
			chromedp.SendKeys(chromedp.ID("try-text"), "do you sell giraffe socks?"), chromedp.Click(chromedp.ID("try-go")))
		admin.wait("the explanation", `document.getElementById("try-out-intent") !== null`)
		if got := admin.text("#try-out-intent"); !strings.Contains(got, "faq:giraffe-socks") {
			t.Errorf("Try it intent %q, want faq:giraffe-socks", got)
		}
		if got := admin.text("#try-out-action"); !strings.Contains(got, "answer") {
			t.Errorf("Try it decision %q, want answer", got)
		}
		if eval[bool](admin, `window.__xss !== undefined || document.querySelector("#inj2") !== null`) {
			t.Error("the FAQ answer's markup was interpreted in the console")
		}
	})

	t.Run("RollbackRestoresPreviousAnswer", func(t *testing.T) {
		admin.t, cust2.t = t, t
		admin.do(chromedp.Click(chromedp.ID("tab-kb")))
		admin.click(`#kb-list button[data-name="giraffe-socks"]`)
		admin.wait("the editor", `/giraffe-socks/.test(document.getElementById("f-heading").textContent) && document.getElementById("f-ans-en") !== null`)
		admin.do(
			chromedp.Evaluate[chromedp.Void](`document.getElementById("f-ans-en").value = ""`),
			chromedp.SendKeys(chromedp.ID("f-ans-en"), "Sorry, giraffe socks are sold out."),
			chromedp.Click(chromedp.ID("f-save")))
		admin.wait("the edit", fmt.Sprintf(`+document.getElementById("kb-version").getAttribute("data-version") === %d`, firstVersion+1))
		waitLive(t, s, firstVersion+1)
		if _, reply := cust2.ask("do you sell giraffe socks?"); !strings.Contains(reply, "sold out") {
			t.Fatalf("after the edit: %q, want the edited answer", reply)
		}
		// The diff of the edit shows the answer change.
		admin.click(fmt.Sprintf(`#kb-history button.diff-btn[data-version="%d"]`, firstVersion+1))
		admin.wait("the diff", `document.querySelector("#kb-diff .diff .add") !== null`)
		if got := admin.text("#kb-diff"); !strings.Contains(got, "sold out") || !strings.Contains(got, "Zoo collection") {
			t.Errorf("diff %q, want both answers", got)
		}
		admin.click(fmt.Sprintf(`#kb-history button.rollback[data-version="%d"]`, firstVersion))
		admin.wait("the rollback", fmt.Sprintf(`+document.getElementById("kb-version").getAttribute("data-version") === %d`, firstVersion+2))
		waitLive(t, s, firstVersion+2)
		if _, reply := cust2.ask("do you sell giraffe socks?"); !strings.Contains(reply, "Zoo collection") {
			t.Fatalf("after the rollback: %q, want the previous answer", reply)
		}
		h, err := s.st.DocHistory(context.Background(), intents.KBDoc, 1)
		if err != nil || len(h) == 0 || h[0].Author != testAdmin || !strings.Contains(h[0].Note, fmt.Sprintf("rollback to v%d", firstVersion)) {
			t.Errorf("latest history entry %+v (%v), want the admin's rollback", h, err)
		}
		admin.shot("console")
	})

	t.Run("RequestWithoutCSRFTokenIsRefused", func(t *testing.T) {
		admin.t = t
		before, _ := s.st.DocVersion(context.Background(), intents.KBDoc)
		post := func(url, token string) int {
			js := fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"Content-Type": "application/json"%s}, body: JSON.stringify({version: 1})}).then(r => r.status)`,
				url, map[bool]string{true: `, "X-CSRF-Token": ` + fmt.Sprintf("%q", token), false: ""}[token != ""])
			return eval[int](admin, js)
		}
		for _, u := range []string{"/admin/api/kb/rollback", "/inbox/api/status", "/logout"} {
			if got := post(u, ""); got != 403 {
				t.Errorf("POST %s without a CSRF token: %d, want 403", u, got)
			}
			if got := post(u, "forged"); got != 403 {
				t.Errorf("POST %s with a forged CSRF token: %d, want 403", u, got)
			}
		}
		// The version did not move.
		if v, _ := s.st.DocVersion(context.Background(), intents.KBDoc); v != before {
			t.Errorf("knowledge base at v%d after refused requests, want v%d", v, before)
		}
		// The same request with the token passes (the page itself works).
		tok := eval[string](admin, `fetch("/api/me").then(r => r.json()).then(m => m.csrf)`)
		if got := post("/inbox/api/status", tok); got != 400 { // the body has no valid status: refused by the desk, not by CSRF
			t.Errorf("POST with the token: %d, want 400 from the handler", got)
		}
	})

	t.Run("ConsolePagesRender", func(t *testing.T) {
		admin.t = t
		if err := s.st.RecordEvent(context.Background(), bot.Event{Type: "unanswered", Text: "do you ship to the moon?", Lang: "en",
			Reason: bot.ReasonOutOfScope, Channel: "web", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, tab := range []string{"unanswered", "analytics", "settings", "notices", "audit", "accounts"} {
			admin.do(chromedp.Click(chromedp.ID("tab-" + tab)))
			admin.wait(tab, fmt.Sprintf(`!document.getElementById("p-%s").hidden && document.getElementById("p-%s").querySelectorAll("table, .card, form, fieldset, p").length > 0`, tab, tab))
		}
		// Back on the analytics tab: its charts are lazy images, which a
		// browser loads only while they are shown (the loop above may have
		// left the tab before they were made).
		admin.do(chromedp.Click(chromedp.ID("tab-analytics")))
		admin.wait("the charts", `[...document.querySelectorAll("#an-charts img")].length === 9 && [...document.querySelectorAll("#an-charts img")].every(i => i.complete && i.naturalWidth > 0)`)
		// "Create FAQ from this" opens the editor prefilled with the question.
		admin.do(chromedp.Click(chromedp.ID("tab-unanswered")))
		admin.wait("the unanswered group", `[...document.querySelectorAll("#un-list .un-group")].some(g => g.textContent.includes("moon"))`)
		admin.click("#un-list .un-group .create-faq")
		admin.wait("the prefilled editor", `!document.getElementById("p-kb").hidden && document.getElementById("f-q-en") !== null && document.getElementById("f-q-en").value.includes("moon")`)
		if got := eval[string](admin, `document.getElementById("f-name").value`); got != "do-you-ship-to-the" {
			t.Errorf("suggested ID %q", got)
		}
		admin.do(chromedp.Click(chromedp.ID("tab-audit")))
		admin.wait("the audit log", `[...document.querySelectorAll("#audit-table td")].some(td => td.textContent.includes("rollback"))`)
	})

	t.Run("WidgetSpeaksThePagesLanguage", func(t *testing.T) {
		visitor := newPerson(t, bctx, "visitor", base)
		visitor.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("sbw-launcher")))
		// A Norwegian page embeds the widget (data-lang), then a Swedish one
		// (only <html lang>): its own labels follow the page.
		for _, tc := range []struct{ setup, launcher, human, placeholder string }{
			{`s.dataset.lang = "nb-NO"`, "Chat med oss", "Snakk med et menneske", "Skriv spørsmålet ditt…"},
			{`document.documentElement.lang = "sv"`, "Chatta med oss", "Prata med en människa", "Skriv din fråga…"},
		} {
			visitor.do(chromedp.Evaluate[chromedp.Void](`(() => {
				delete window.__supportbotWidget;
				document.getElementById("supportbot-widget").remove();
				const s = document.createElement("script");
				s.src = "/widget.js";
				` + tc.setup + `;
				document.body.appendChild(s);
			})()`))
			visitor.wait("the widget in "+tc.launcher, fmt.Sprintf(`document.getElementById("sbw-launcher") !== null && document.getElementById("sbw-launcher").textContent === %q`, tc.launcher))
			if got := visitor.text("#sbw-human"); got != tc.human {
				t.Errorf("human button %q, want %q", got, tc.human)
			}
			if got := eval[string](visitor, `document.getElementById("sbw-input").placeholder`); got != tc.placeholder {
				t.Errorf("placeholder %q, want %q", got, tc.placeholder)
			}
		}
		for _, e := range visitor.exceptions() {
			t.Errorf("uncaught exception: %s", e)
		}
	})

	t.Run("NoScriptErrors", func(t *testing.T) {
		for _, p := range []*person{cust, agent, admin, cust2} {
			for _, e := range p.exceptions() {
				t.Errorf("%s: uncaught exception: %s", p.name, e)
			}
		}
	})
}

// eventually polls cond (a store read) until it holds, for up to step.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(step)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}

// waitLive waits until the router serves knowledge-base version v (it
// polls the store every 100 ms in the test stack).
func waitLive(t *testing.T, s *stack, v int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("the router to load knowledge base v%d", v), func() bool {
		sn := s.router.Snapshot()
		return sn != nil && sn.Version >= v
	})
}
