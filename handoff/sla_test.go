package handoff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/supportbot/supportbot/bot"
	"github.com/supportbot/supportbot/handoff"
)

func TestSLARemindsThenEscalatesUnclaimedCards(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{RenotifyAfter: 5 * time.Minute, EscalateAfter: 15 * time.Minute}, rigOpt{})
		r.runDesk()
		alice := r.agent("web:alice", "Alice", 1)
		r.send("ann", "complaint: I was charged twice")
		r.send("ben", "human")

		time.Sleep(4 * time.Minute)
		if got := r.ws.Calls("remind"); len(got) != 0 {
			t.Fatalf("reminded after 4 minutes: %+v", got)
		}
		if err := r.desk.Claim(ctx, r.id("ben"), alice); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		rem := r.ws.Calls("remind")
		if len(rem) != 1 || rem[0].Level != 1 || rem[0].Card.Conv != r.id("ann") {
			t.Fatalf("after 6 minutes: reminders %+v; want one level-1 reminder for ann only", rem)
		}
		if k := rem[0].Card; k.Reason != bot.ReasonComplaint || k.Refs["post"] == "" || k.Position != 1 {
			t.Errorf("reminder card: reason %s refs %v position %d", k.Reason, k.Refs, k.Position)
		}
		time.Sleep(10 * time.Minute)
		rem = r.ws.Calls("remind")
		if len(rem) != 2 || rem[1].Level != 2 || rem[1].Card.Reason != bot.ReasonComplaint {
			t.Fatalf("after 16 minutes: reminders %+v; want a level-2 escalation of the complaint", rem)
		}
		time.Sleep(time.Hour)
		if n := len(r.ws.Calls("remind")); n != 2 {
			t.Errorf("%d reminders after an hour; timers must fire once", n)
		}
		if e := r.events(handoff.EventRemind); len(e) != 2 {
			t.Errorf("%d sla events, want 2", len(e))
		}
	})
}

func TestSLATimersStopWhenTheCustomerLeaves(t *testing.T) {
	bubble(t, func(t *testing.T) {
		r := newRig(t, handoff.Config{}, rigOpt{})
		r.runDesk()
		r.send("ann", "human")
		r.send("ann", "cancel")
		time.Sleep(time.Hour)
		if got := r.ws.Calls("remind"); len(got) != 0 {
			t.Errorf("reminded about a conversation that left the queue: %+v", got)
		}
	})
}

var oslo = func() *time.Location {
	l, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	return l
}()

func officeHours() handoff.BusinessHours {
	return handoff.BusinessHours{Timezone: "Europe/Oslo", Weekly: map[string]string{"mon-fri": "09:00-17:00"},
		Holidays: []string{"2026-01-01"}}
}

func TestAfterHoursTellsWhenAPersonWillAnswer(t *testing.T) {
	cases := []struct {
		name string
		at   time.Time
		lang string
		want string
	}{
		{"saturday evening", time.Date(2026, 1, 3, 20, 0, 0, 0, oslo), "en",
			"Our team is offline right now. A person will answer on Monday 5 January at 09:00 (CET)."},
		{"thursday night, nb", time.Date(2026, 1, 8, 22, 30, 0, 0, oslo), "nb",
			"Teamet vårt er ikke på jobb akkurat nå. En person svarer deg i morgen kl. 09:00 (CET)."},
		{"early morning, sv", time.Date(2026, 1, 7, 6, 15, 0, 0, oslo), "sv",
			"En person svarar dig i dag kl. 09:00 (CET)."},
		{"new year's eve, sr", time.Date(2025, 12, 31, 18, 0, 0, 0, oslo), "sr",
			"Osoba će vam odgovoriti u petak, 2. januara, u 09:00 (CET)."},
		{"summer friday, en", time.Date(2026, 6, 12, 17, 0, 0, 0, oslo), "en",
			"A person will answer on Monday 15 June at 09:00 (CEST)."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				r := newRig(t, handoff.Config{Hours: officeHours()}, rigOpt{base: tc.at.Add(-time.Second)})
				r.lang["ann"] = tc.lang
				r.send("ann", "human")
				if got := r.last("ann"); !strings.Contains(got, tc.want) {
					t.Errorf("told %q\nwant it to contain %q", got, tc.want)
				}
				if c := r.conv("ann"); c.State != bot.StateQueued {
					t.Errorf("after hours, state %s; want to wait in the queue", c.State)
				}
			})
		})
	}
}

func TestAfterHoursTakesContactDetailsAndFollowsUpAtOpening(t *testing.T) {
	bubble(t, func(t *testing.T) {
		cfg := handoff.Config{Hours: officeHours(), AfterHours: handoff.AfterHoursContact,
			RenotifyAfter: 10 * time.Minute, EscalateAfter: 30 * time.Minute, Tick: 30 * time.Second}
		r := newRig(t, cfg, rigOpt{base: time.Date(2026, 1, 12, 7, 30, 0, 0, oslo)}) // Monday, before opening
		r.runDesk()
		r.send("ann", "human")
		if got := r.last("ann"); !strings.Contains(got, "A person will answer today at 09:00 (CET).") || !strings.Contains(got, "leave your email address or phone number") {
			t.Fatalf("told %q", got)
		}
		r.send("ann", "sure, it's ann.hansen@example.com")
		if got := r.last("ann"); got != "Thank you! We'll contact you at ann.hansen@example.com as soon as we're open." {
			t.Errorf("told %q", got)
		}
		if c := r.conv("ann"); c.Data[handoff.DataContact] != "ann.hansen@example.com" || c.State != bot.StateQueued {
			t.Errorf("contact %q state %s", c.Data[handoff.DataContact], c.State)
		}
		if u := r.ws.For(r.id("ann"), "update"); len(u) == 0 || u[len(u)-1].Card.Contact != "ann.hansen@example.com" || u[len(u)-1].Card.Opens.IsZero() {
			t.Errorf("card not updated with the contact: %+v", u)
		}

		time.Sleep(time.Hour + 29*time.Minute) // 08:59:02
		if got := r.ws.Calls("remind"); len(got) != 0 {
			t.Fatalf("the team was reminded while closed: %+v", got)
		}
		time.Sleep(time.Minute) // 09:00:02
		rem := r.ws.Calls("remind")
		if len(rem) != 1 || rem[0].Level != 1 || rem[0].Card.Contact != "ann.hansen@example.com" {
			t.Fatalf("at opening: reminders %+v; want one follow-up with the contact", rem)
		}
		if got := r.last("ann"); !strings.Contains(got, "You are next in the queue.") {
			t.Errorf("at opening the customer was told %q; want their place", got)
		}
		time.Sleep(10 * time.Minute) // SLA counts from the opening
		if rem := r.ws.Calls("remind"); len(rem) != 2 || rem[1].Level != 1 {
			t.Errorf("10 minutes after opening: reminders %+v", rem)
		}
	})
}
