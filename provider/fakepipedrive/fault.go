package fakepipedrive

import (
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Fault describes how the fake misbehaves on a request matched by Fail.
// Fields combine: Slow(d) with Status 503 waits, then fails. For Pipedrive:
// a 429 Status carries the rate-limit headers (remaining 0) and
// Retry-After, whose default (RetryAfter zero) is 2 s, Pipedrive's burst
// window; 401 carries Pipedrive's unauthorized body. RepeatCursor makes API
// v2's next_cursor the request's own cursor and /v1/leads' next_start the
// request's start; a first page (no cursor) is answered normally, but the
// fault is still used up.
type Fault = fakevendor.Fault

// Status returns a Fault answering the HTTP status code.
func Status(code int) Fault { return fakevendor.Status(code) }

// Slow returns a Fault delaying the answer by d.
func Slow(d time.Duration) Fault { return fakevendor.Slow(d) }

// Malformed returns a Fault truncating the JSON body.
func Malformed() Fault { return fakevendor.Malformed() }

// RepeatCursor returns a Fault that serves the same next cursor again.
func RepeatCursor() Fault { return fakevendor.RepeatCursor() }

// Fail makes the next n requests whose URL path starts with prefix suffer f.
// Rules are used in the order they were added; a request consumes at most
// one. n < 0 means every matching request until ClearFaults; n == 0 does
// nothing. Faults apply before authentication, as a broken proxy or an
// overloaded vendor would.
func (s *Server) Fail(prefix string, n int, f Fault) { s.faults.Add(prefix, n, f) }

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// writeFault answers an injected status in Pipedrive's error envelope.
func (s *Server) writeFault(w http.ResponseWriter, f Fault) {
	switch f.Status {
	case http.StatusTooManyRequests:
		f.SetRetryAfter(w.Header(), 2*time.Second)
		writeJSON(w, f.Status, errBody("Request over limit", f.Status))
	case http.StatusUnauthorized:
		writeJSON(w, f.Status, unauthorized)
	default:
		f.SetRetryAfter(w.Header(), 0)
		writeJSON(w, f.Status, errBody(http.StatusText(f.Status), f.Status))
	}
}
