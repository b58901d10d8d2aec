package fakeclose

import "github.com/eventdesk/eventdesk/provider/fakevendor"

// RecordedRequest is one request as the fake received it (Time on the fake
// clock, Method, URL, a copy of Header, Body), kept so that tests can
// assert exactly what a client asked for.
type RecordedRequest = fakevendor.RecordedRequest

// Requests returns the logged requests, oldest first. The log keeps at most
// Options.MaxRequestLog entries.
func (s *Server) Requests() []RecordedRequest { return s.reqLog.All() }

// ResetRequests empties the request log.
func (s *Server) ResetRequests() { s.reqLog.Reset() }
