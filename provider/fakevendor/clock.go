package fakevendor

import (
	"sync"
	"time"
)

// Clock tells a fake what time it is. Record times, event and webhook
// timestamps, rate-limit windows and request-log times all come from it, so
// a test that owns the clock owns everything time-dependent in the fake.
type Clock interface{ Now() time.Time }

// WallClock is the real time, which a fake uses when it is given no Clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// OrWall returns c, or WallClock when c is nil, so that a fake's zero
// Options mean "the real time".
func OrWall(c Clock) Clock {
	if c == nil {
		return WallClock{}
	}
	return c
}

// FakeClock is a Clock that moves only when told to. It is safe for
// concurrent use, because a fake reads it from request goroutines while the
// test goroutine moves it.
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
