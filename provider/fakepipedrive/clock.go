package fakepipedrive

import (
	"sync"
	"time"
)

// Clock tells the fake what time it is. Record add/update times, webhook
// timestamps, rate-limit windows and request-log times all come from it, so
// a test that owns the clock owns everything time-dependent in the fake.
type Clock interface{ Now() time.Time }

// realClock is the wall clock, used when Options.Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that moves only when told to. It is safe for
// concurrent use, because the server reads it from request goroutines while
// the test goroutine moves it.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a FakeClock standing at t.
func NewClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, which may be in the past.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new time.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}
