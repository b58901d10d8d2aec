package fakevendor

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// RecordedRequest is one request as a fake received it, kept so that tests
// can assert exactly what a client asked for.
type RecordedRequest struct {
	// Time is the fake clock's time when the request arrived.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// URL is the request URL (path and query; no scheme or host).
	URL *url.URL
	// Header is a copy of the request headers.
	Header http.Header
	// Body is the request body (nil for bodiless requests).
	Body []byte
}

// RequestLog is a fake's bounded log of requests. Set Max before use; it is
// safe for concurrent use, because every request goroutine appends to it.
type RequestLog struct {
	// Max bounds the log; when full, the oldest half is dropped.
	Max int

	mu      sync.Mutex
	entries []RecordedRequest
}

// Record appends r, with its already-read body, as it arrived at now.
func (l *RequestLog) Record(r *http.Request, body []byte, now time.Time) {
	u := *r.URL
	rr := RecordedRequest{Time: now, Method: r.Method, URL: &u, Header: r.Header.Clone(), Body: body}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= l.Max {
		// Drop the oldest half at once so that a long demo run costs
		// amortised O(1) per request instead of a copy per request.
		n := copy(l.entries, l.entries[len(l.entries)/2:])
		clear(l.entries[n:])
		l.entries = l.entries[:n]
	}
	l.entries = append(l.entries, rr)
}

// All returns the logged requests, oldest first, as a copy the caller owns.
func (l *RequestLog) All() []RecordedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RecordedRequest, len(l.entries))
	copy(out, l.entries)
	return out
}

// Reset empties the log.
func (l *RequestLog) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
