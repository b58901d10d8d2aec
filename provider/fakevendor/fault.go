package fakevendor

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault describes how a fake misbehaves on a request matched by its
// server's Fail. Fields combine: Slow(d) with Status 503 waits, then fails.
// What a status answers with (body, headers, the default Retry-After) is the
// vendor's and is documented by each fake's Fault alias.
type Fault struct {
	// Status, when not zero, answers this HTTP status instead of the real
	// answer. 429 also reports a spent rate-limit window and carries
	// Retry-After; 401 carries the vendor's unauthorized body.
	Status int
	// RetryAfter is the Retry-After value for 429 and 503 answers. Zero
	// means the vendor's rate-limit window for 429 and no header for 503.
	RetryAfter time.Duration
	// Delay waits this long (real time, not the fake clock, since it
	// exercises client timeouts) before answering. A request whose context
	// ends first gets no answer at all.
	Delay time.Duration
	// Malformed cuts the JSON body in half so that it no longer parses.
	Malformed bool
	// RepeatCursor makes a paged answer point at the page just served, so
	// that a client trusting the vendor's paging never stops; what that
	// means per paging style is the vendor's.
	RepeatCursor bool
}

// Status returns a Fault answering the HTTP status code.
func Status(code int) Fault { return Fault{Status: code} }

// Slow returns a Fault delaying the answer by d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Malformed returns a Fault truncating the JSON body.
func Malformed() Fault { return Fault{Malformed: true} }

// RepeatCursor returns a Fault that serves the same next cursor again.
func RepeatCursor() Fault { return Fault{RepeatCursor: true} }

// SetRetryAfter sets the Retry-After header of an injected status answer:
// f.RetryAfter, or def when that is zero, rounded up to whole seconds. With
// both zero no header is set, as a plain 503 has none.
func (f Fault) SetRetryAfter(h http.Header, def time.Duration) {
	ra := f.RetryAfter
	if ra <= 0 {
		ra = def
	}
	if ra > 0 {
		h.Set("Retry-After", strconv.Itoa(CeilSeconds(ra)))
	}
}

// CeilSeconds rounds d up to whole seconds, at least 1, because Retry-After
// and rate-limit reset headers are whole seconds and 0 would invite a
// client to hammer the fake.
func CeilSeconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// faultRule is one Add call: a path prefix and how many requests are left.
type faultRule struct {
	prefix string
	left   int // < 0: unlimited
	f      Fault
}

// Faults is a fake's table of pending faults. The zero value is empty and
// ready; it is safe for concurrent use, because request goroutines take
// faults while the test adds them.
type Faults struct {
	mu    sync.Mutex
	rules []*faultRule
}

// Add makes the next n requests whose URL path starts with prefix suffer f.
// Rules are used in the order they were added; a request consumes at most
// one. n < 0 means every matching request until Clear; n == 0 does nothing.
func (t *Faults) Add(prefix string, n int, f Fault) {
	if n == 0 {
		return
	}
	t.mu.Lock()
	t.rules = append(t.rules, &faultRule{prefix: prefix, left: n, f: f})
	t.mu.Unlock()
}

// Clear removes every pending fault.
func (t *Faults) Clear() {
	t.mu.Lock()
	t.rules = nil
	t.mu.Unlock()
}

// Take consumes and returns the first fault whose prefix matches path.
func (t *Faults) Take(path string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, fr := range t.rules {
		if !strings.HasPrefix(path, fr.prefix) {
			continue
		}
		f := fr.f
		if fr.left > 0 {
			fr.left--
			if fr.left == 0 {
				t.rules = append(t.rules[:i:i], t.rules[i+1:]...)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// TruncWriter buffers an answer and sends only its first half, which is
// how the Malformed fault produces a body that is cut mid-JSON. Call Finish
// when the handler is done.
type TruncWriter struct {
	w        http.ResponseWriter
	fallback []byte
	status   int
	buf      bytes.Buffer
}

// NewTruncWriter wraps w. fallback is sent when half the body is nothing,
// so that even an empty answer arrives as broken JSON; each vendor passes
// the start of its usual envelope.
func NewTruncWriter(w http.ResponseWriter, fallback string) *TruncWriter {
	return &TruncWriter{w: w, fallback: []byte(fallback)}
}

// Header returns the wrapped writer's header, which Finish sends.
func (t *TruncWriter) Header() http.Header { return t.w.Header() }

// WriteHeader remembers the first status; Finish sends it.
func (t *TruncWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
}

// Write buffers p; nothing reaches the client before Finish.
func (t *TruncWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	return t.buf.Write(p)
}

// Finish sends the status and the first half of the body.
func (t *TruncWriter) Finish() {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	b := t.buf.Bytes()
	b = b[:len(b)/2]
	if len(b) == 0 {
		b = t.fallback
	}
	t.w.Header().Del("Content-Length")
	t.w.WriteHeader(t.status)
	_, _ = t.w.Write(b)
}
