package fakepipedrive

import (
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Clock tells the fake what time it is. Record add/update times, webhook
// timestamps, rate-limit windows and request-log times all come from it, so
// a test that owns the clock owns everything time-dependent in the fake.
// It is the clock every fake shares, so one FakeClock can drive several.
type Clock = fakevendor.Clock

// FakeClock is a Clock that moves only when told to (Set, Advance). It is
// safe for concurrent use, because the server reads it from request
// goroutines while the test goroutine moves it.
type FakeClock = fakevendor.FakeClock

// NewClock returns a FakeClock standing at t.
func NewClock(t time.Time) *FakeClock { return fakevendor.NewClock(t) }
