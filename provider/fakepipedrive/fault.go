package fakepipedrive

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// Fault describes how the fake misbehaves on a request matched by Fail.
// Fields combine: Slow(d) with Status 503 waits, then fails.
type Fault struct {
	// Status, when not zero, answers this HTTP status instead of the real
	// answer. 429 carries the rate-limit headers (remaining 0) and
	// Retry-After; 401 carries Pipedrive's unauthorized body.
	Status int
	// RetryAfter is the Retry-After value for 429 and 503 answers. Zero
	// means 2 s for 429 (Pipedrive's burst window) and no header for 503.
	RetryAfter time.Duration
	// Delay waits this long (real time, not the fake clock, since it
	// exercises client timeouts) before answering. A request whose context
	// ends first gets no answer at all.
	Delay time.Duration
	// Malformed cuts the JSON body in half so that it no longer parses.
	Malformed bool
	// RepeatCursor makes a paged answer point at the page just served: on
	// API v2 next_cursor is the request's own cursor, on /v1/leads next_start
	// is the request's start. A first page (no cursor) is answered normally,
	// but the fault is still used up.
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

// faultRule is one Fail call: a path prefix and how many requests are left.
type faultRule struct {
	prefix string
	left   int // < 0: unlimited
	f      Fault
}

// Fail makes the next n requests whose URL path starts with prefix suffer f.
// Rules are used in the order they were added; a request consumes at most
// one. n < 0 means every matching request until ClearFaults; n == 0 does
// nothing. Faults apply before authentication, as a broken proxy or an
// overloaded vendor would.
func (s *Server) Fail(prefix string, n int, f Fault) {
	if n == 0 {
		return
	}
	s.faultMu.Lock()
	s.faults = append(s.faults, &faultRule{prefix: prefix, left: n, f: f})
	s.faultMu.Unlock()
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	s.faults = nil
	s.faultMu.Unlock()
}

// takeFault consumes and returns the first fault matching path.
func (s *Server) takeFault(path string) (Fault, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, fr := range s.faults {
		if !strings.HasPrefix(path, fr.prefix) {
			continue
		}
		f := fr.f
		if fr.left > 0 {
			fr.left--
			if fr.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// truncWriter buffers an answer and sends only its first half, which is
// how the Malformed fault produces a body that is cut mid-JSON.
type truncWriter struct {
	w      http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (t *truncWriter) Header() http.Header { return t.w.Header() }

func (t *truncWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
}

func (t *truncWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	return t.buf.Write(p)
}

// finish sends the status and the truncated body.
func (t *truncWriter) finish() {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	b := t.buf.Bytes()
	b = b[:len(b)/2]
	if len(b) == 0 {
		b = []byte(`{"succ`)
	}
	t.w.Header().Del("Content-Length")
	t.w.WriteHeader(t.status)
	_, _ = t.w.Write(b)
}
