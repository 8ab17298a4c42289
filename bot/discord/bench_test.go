package discord

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/supportbot/supportbot/internal/fakediscord"
)

// BenchmarkReplyLatency measures, end to end through the real discordgo
// client, the adapter and a bot.Engine with the echo handler, the time from
// the fake sending MESSAGE_CREATE to it receiving the reply POST. It
// reports p50 and p99 in milliseconds.
//
//	go test -run '^$' -bench ReplyLatency -benchtime 2000x ./bot/discord/
func BenchmarkReplyLatency(b *testing.B) {
	for _, bc := range []struct{ name, guild, channel string }{
		{"dm", "", "95001"},
		{"thread", guild, support}, // each message starts a thread first
	} {
		b.Run(bc.name, func(b *testing.B) {
			fd := newFake(b)
			runEngine(b, newAdapter(b, fd, testConfig()), echo)
			connected(b, fd, 1)
			var lat []time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				fd.Message(fakediscord.Msg{GuildID: bc.guild, ChannelID: bc.channel, Author: alice, Content: "m" + strconv.Itoa(n)})
				if err := fd.Wait(wait, func() bool { return len(fd.Posts()) > n }); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, fd.Posts()[n].At.Sub(start))
				n++
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
