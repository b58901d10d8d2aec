package fakeclose

import (
	"net/http"
	"net/url"
	"time"
)

// RecordedRequest is one request as the fake received it, kept so that tests
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

// recordRequest appends r to the bounded request log.
func (s *Server) recordRequest(r *http.Request, body []byte, now time.Time) {
	u := *r.URL
	rr := RecordedRequest{Time: now, Method: r.Method, URL: &u, Header: r.Header.Clone(), Body: body}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.reqLog) >= s.opts.MaxRequestLog {
		// Drop the oldest half at once so that a long demo run costs
		// amortised O(1) per request instead of a copy per request.
		n := copy(s.reqLog, s.reqLog[len(s.reqLog)/2:])
		clear(s.reqLog[n:])
		s.reqLog = s.reqLog[:n]
	}
	s.reqLog = append(s.reqLog, rr)
}

// Requests returns the logged requests, oldest first. The log keeps at most
// Options.MaxRequestLog entries.
func (s *Server) Requests() []RecordedRequest {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]RecordedRequest, len(s.reqLog))
	copy(out, s.reqLog)
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.reqLog = nil
	s.logMu.Unlock()
}
