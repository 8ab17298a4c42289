package intents_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/supportbot/supportbot/intents"
)

// Decision.String writes what the fmt formulation it replaced wrote.
func TestDecisionStringAsFmt(t *testing.T) {
	for _, d := range []intents.Decision{
		{},
		{Lang: "en", LangConf: 0.987, Intent: "faq:refund", Confidence: 0.5, Action: "answer", Why: "confident (≥ 0.50)"},
		{Lang: "sr", LangConf: 1, Confidence: 0.004999, Action: "handoff", Reason: "out_of_scope", Why: "nothing matches"},
		{Lang: "sv", LangConf: math.NaN(), Intent: "x", Confidence: math.Inf(1), Action: "suggest", Why: "?"},
		{LangConf: math.Copysign(0, -1), Confidence: math.Inf(-1), Reason: "complaint"},
		{LangConf: -1.005, Confidence: 12345.675},
	} {
		intent := d.Intent
		if intent == "" {
			intent = "-"
		}
		want := fmt.Sprintf("lang=%s (%.2f) intent=%s (%.2f) → %s", d.Lang, d.LangConf, intent, d.Confidence, d.Action)
		if d.Reason != "" {
			want += " [" + string(d.Reason) + "]"
		}
		want += ": " + d.Why
		if got := d.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
