package channeltest_test

import (
	"testing"

	"github.com/supportbot/supportbot/bot/channeltest"
)

func TestFakeConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Features{Buttons: true, Retries: true}, func(t *testing.T) channeltest.Harness {
		f := channeltest.NewFake("fake")
		return channeltest.Harness{Channel: f, Platform: channeltest.FakePlatform{F: f}}
	})
}
