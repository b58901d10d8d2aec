package provider

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// repeatWindow is how often one kind of warning or error may be logged: a
// failing disk answers every request with the same 500, and a line each
// (11,000 in 40 s) buries everything else.
const repeatWindow = 10 * time.Second

// maxRepeatKeys bounds the kinds of lines remembered.
const maxRepeatKeys = 1024

// repeatLimiter is a slog.Handler that passes the first of a run of alike
// warnings and errors (same level, message and "err") and then at most one
// every window, carrying the number held back since the last one passed
// ("repeated"). Info and debug lines pass untouched.
type repeatLimiter struct {
	next   slog.Handler
	window time.Duration
	now    func() time.Time
	state  *repeatState // shared by the handlers WithAttrs and WithGroup derive
}

type repeatState struct {
	mu   sync.Mutex
	seen map[string]*repeatEntry
}

type repeatEntry struct {
	last time.Time // when a line of this kind last passed
	held int       // lines held back since
}

func newRepeatLimiter(next slog.Handler, window time.Duration, now func() time.Time) *repeatLimiter {
	return &repeatLimiter{next: next, window: window, now: now, state: &repeatState{seen: map[string]*repeatEntry{}}}
}

// Enabled defers to the wrapped handler.
func (h *repeatLimiter) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle passes r on unless a line of its kind passed within the window.
func (h *repeatLimiter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	key := strconv.Itoa(int(r.Level)) + "\x00" + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			key += "\x00" + a.Value.String()
			return false
		}
		return true
	})
	now := h.now()
	st := h.state
	st.mu.Lock()
	e := st.seen[key]
	if e != nil && now.Sub(e.last) < h.window {
		e.held++
		st.mu.Unlock()
		return nil
	}
	held := 0
	if e != nil {
		held = e.held
	} else {
		if len(st.seen) >= maxRepeatKeys {
			for k, old := range st.seen {
				if now.Sub(old.last) >= h.window {
					delete(st.seen, k)
				}
			}
			if len(st.seen) >= maxRepeatKeys {
				st.seen = map[string]*repeatEntry{}
			}
		}
		e = &repeatEntry{}
		st.seen[key] = e
	}
	e.last, e.held = now, 0
	st.mu.Unlock()
	if held > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", held))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs wraps the wrapped handler's, sharing what was seen.
func (h *repeatLimiter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &repeatLimiter{next: h.next.WithAttrs(attrs), window: h.window, now: h.now, state: h.state}
}

// WithGroup wraps the wrapped handler's, sharing what was seen.
func (h *repeatLimiter) WithGroup(name string) slog.Handler {
	return &repeatLimiter{next: h.next.WithGroup(name), window: h.window, now: h.now, state: h.state}
}
