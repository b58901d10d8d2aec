package fakeclose

import (
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Fault describes how the fake misbehaves on a request matched by Fail.
// Fields combine: Slow(d) with Status 503 waits, then fails. For Close: a
// 429 Status carries the RateLimit header (remaining=0) and Retry-After, as
// Close guarantees, whose default (RetryAfter zero) is 1 s; 401 carries the
// unauthorized body. RepeatCursor makes the Event Log's cursor_next the
// request's own _cursor (a first page, without _cursor, is answered
// normally but still uses the fault up); on _skip lists, where the client
// computes the next page itself, has_more is true even at the end, so a
// client trusting it never stops.
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

// writeFault answers an injected status in Close's {"error"} shape.
func (s *Server) writeFault(w http.ResponseWriter, f Fault) {
	switch f.Status {
	case http.StatusTooManyRequests:
		f.SetRetryAfter(w.Header(), time.Second)
		writeJSON(w, f.Status, errorBody{Error: "Too many requests, please wait and try again."})
	case http.StatusUnauthorized:
		writeJSON(w, f.Status, unauthorized)
	default:
		f.SetRetryAfter(w.Header(), 0)
		writeJSON(w, f.Status, errorBody{Error: http.StatusText(f.Status)})
	}
}
