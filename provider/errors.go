package provider

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/model"
)

// apiError is CE's error body; problems is eventdesk's addition so a client
// can show each validation message next to its field.
type apiError struct {
	RequestID string          `json:"requestId"`
	Message   string          `json:"message"`
	Problems  []model.Problem `json:"problems,omitempty"`
}

// httpError is an error with the status it should be answered with.
type httpError struct {
	status int
	msg    string
	err    error
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.err }

func errorf(status int, msg string) *httpError { return &httpError{status: status, msg: msg} }

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey).(string); ok {
		return id
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers with err's status and message, and records every 4xx in the
// rejected-request log. body is what was read of the request, if anything.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, body []byte) {
	status := http.StatusInternalServerError
	msg := "internal error"
	var he *httpError
	var ve *model.ValidationError
	switch {
	case errors.As(err, &ve):
		status, msg = http.StatusBadRequest, ve.Error()
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	}
	if status >= 500 {
		cause := err
		if he != nil && he.err != nil {
			cause = he.err // the answer's message is for the client; the log gets the cause
		}
		s.log.Error("request failed", "requestId", requestID(r), "method", r.Method, "path", r.URL.Path, "err", cause)
	} else {
		s.reject(r, status, msg, body)
	}
	body2 := apiError{RequestID: requestID(r), Message: msg}
	if ve != nil {
		body2.Problems = ve.Problems
	}
	writeJSON(w, status, body2)
}

// allowedMethods lists the methods r's path is served with, other than
// through the catch-all. GET /instances/{id}/{sub} is one route for several
// paths, so a sub-path it does not serve (foo, webhook) does not count.
func (s *Server) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.WithContext(r.Context())
		probe.Method = m
		_, pattern := s.mux.Handler(probe)
		if pattern == "" || pattern == "/" {
			continue
		}
		if pattern == instanceSubPattern {
			id, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix+"/instances/"), "/")
			if !instanceSubServes(id, sub) {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// logAttrs never carries secrets: only method, path and ids.
func reqAttrs(r *http.Request) []any {
	return []any{slog.String("requestId", requestID(r)), slog.String("method", r.Method), slog.String("path", r.URL.Path)}
}
