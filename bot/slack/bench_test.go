package slack_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/internal/fakeslack"
)

// BenchmarkHandoffToCard measures the time from a customer's "human"
// arriving on the Socket Mode websocket to the handoff card being posted
// in the handoff channel (fake Slack, fake desk, real slack-go clients).
//
//	go test -run '^$' -bench HandoffToCard -benchtime 200x ./bot/slack/
func BenchmarkHandoffToCard(b *testing.B) {
	e := start(b)
	e.deliver = func(ctx context.Context, in bot.Inbound) {
		if _, err := e.desk.handoff(ctx, fullCard(in.Msg.From), in.Msg.From); err != nil {
			b.Error(err)
		}
	}
	e.listen().connected()
	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dm := fmt.Sprintf("D%07d", i)
		from := e.fake.Len()
		payload, _ := e.fake.Event(fakeslack.Message{Channel: dm, User: fmt.Sprintf("U%07d", i), Text: "I need a human"})
		t0 := time.Now()
		if _, err := e.fake.PushEvent(within(b), payload); err != nil {
			b.Fatal(err)
		}
		if _, err := e.fake.WaitPostFrom(within(b), from, fakeslack.In(handoffCh)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, took)
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	pct := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkClaimRace has 8 agents click Claim on the same card at once,
// card after card, and reports how many won (must be exactly 1) and how
// many were told the card was taken (must be 7).
//
//	go test -run '^$' -bench ClaimRace -benchtime 50x ./bot/slack/
func BenchmarkClaimRace(b *testing.B) {
	e := start(b).listen().connected()
	const contenders = 8
	var winners, told int
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		addr := bot.Address{Channel: "web", Room: fmt.Sprintf("w%d", i)}
		before := e.fake.Len()
		if _, err := e.desk.handoff(within(b), fullCard(addr), addr); err != nil {
			b.Fatal(err)
		}
		card, err := e.fake.WaitPostFrom(within(b), before, fakeslack.In(handoffCh))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w, n, d := race(b, e, card, contenders)
		winners += w
		told += n
		took = append(took, d)
	}
	b.StopTimer()
	b.ReportMetric(contenders, "contenders/op")
	b.ReportMetric(float64(winners)/float64(b.N), "winners/op")
	b.ReportMetric(float64(told)/float64(b.N), "told-taken/op")
	reportPercentiles(b, took)
}

// race makes n agents click Claim on card together; it returns the number
// of winners, of losers told "Already taken", and the time until all knew.
func race(tb testing.TB, e *env, card fakeslack.Post, n int) (winners, told int, took time.Duration) {
	before := e.fake.Len()
	agents := make([]string, n)
	for i := range agents {
		agents[i] = fmt.Sprintf("U0AGENT%02d", i)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, u := range agents {
		wg.Go(func() {
			if err := e.press(within(tb), u, card, "handoff_claim"); err != nil {
				tb.Error(err)
			}
		})
	}
	wg.Wait()
	for range n {
		if strings.HasSuffix(e.desk.waitCall(tb, "claim:"), ":ok") {
			winners++
		}
	}
	for _, u := range agents {
		if e.desk.card(bot.ConversationID(card.Buttons()[0].Value)).Agent == "slack:"+u {
			continue
		}
		p, err := e.fake.WaitPostFrom(within(tb), before, fakeslack.EphemeralTo(u))
		if err != nil {
			tb.Fatalf("%s was not told: %v", u, err)
		}
		if strings.Contains(p.Text, "Already taken by <@") {
			told++
		}
	}
	return winners, told, time.Since(t0)
}

func TestClaimRaceManyContenders(t *testing.T) {
	e := start(t).listen().connected()
	const cards, contenders = 10, 8
	for i := range cards {
		addr := bot.Address{Channel: "web", Room: fmt.Sprintf("w%d", i)}
		before := e.fake.Len()
		if _, err := e.desk.handoff(within(t), fullCard(addr), addr); err != nil {
			t.Fatal(err)
		}
		card := e.waitPostFrom(before, fakeslack.In(handoffCh))
		if w, n, _ := race(t, e, card, contenders); w != 1 || n != contenders-1 {
			t.Errorf("card %d: %d winners, %d told taken; want 1 and %d", i, w, n, contenders-1)
		}
	}
}
