package vendorjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxResponse bounds how much of an answer Call.Do reads; vendors' answers
// to the calls eventdesk makes are small, so more means something is wrong.
const MaxResponse = 1 << 20

// defaultHTTPClient is used when a Call has no HTTPClient.
var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// Call is one request to a vendor's JSON API.
type Call struct {
	// Vendor starts every error text, e.g. "pipedrive".
	Vendor string
	// BaseURL is the instance's base URL (a trailing slash is dropped);
	// empty means DefaultBaseURL. Path is appended to it.
	BaseURL, DefaultBaseURL string
	// Method and Path (relative to the base URL) name the request in
	// errors too.
	Method, Path string
	// In, when not nil, is sent as the JSON body.
	In any
	// Auth sets the vendor's credentials on the request.
	Auth func(*http.Request)
	// HTTPClient nil means a client with a 30-second timeout.
	HTTPClient *http.Client
}

// Errorf words an error about the call as "<vendor>: <method> <path>: …",
// the form every adapter error takes, so logs read alike across vendors.
func (c Call) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s %s: "+format, append([]any{c.Vendor, c.Method, c.Path}, args...)...)
}

// Do sends the call and returns the answer's status and body (at most
// MaxResponse bytes). Only failing to ask or to read is an error (encoding
// In, the transport, reading the body); any status, 2xx or not, is the
// caller's to judge, because each vendor signals failure its own way.
// Transport errors lose url.Error's URL, since a base URL may carry
// credentials.
func (c Call) Do(ctx context.Context) (int, []byte, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = c.DefaultBaseURL
	}
	var body io.Reader
	if c.In != nil {
		b, err := json.Marshal(c.In)
		if err != nil {
			return 0, nil, c.Errorf("%w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, base+c.Path, body)
	if err != nil {
		return 0, nil, c.Errorf("%w", err)
	}
	if c.Auth != nil {
		c.Auth(req)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "eventdesk")
	if c.In != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, c.Errorf("%w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if err != nil {
		return resp.StatusCode, nil, c.Errorf("reading response: %w", err)
	}
	return resp.StatusCode, raw, nil
}

// Message extracts the human message from an error body, whichever of the
// vendors' shapes it has: {"errors":{"field":["msg"]}},
// {"errors":["msg"],"field-errors":{"field":"msg"}}, {"error":"msg"},
// {"message":"msg"}, {"error_info":"msg"}, or the body's text (cut at 200
// characters); the status text when there is nothing.
func Message(raw []byte, status int) string {
	var parts []string
	if o, ok := AsObject(raw); ok {
		parts = append(parts, errorsText(o["errors"])...)
		parts = append(parts, errorsText(o["field-errors"])...)
		for _, k := range []string{"error", "message", "error_info"} {
			if len(parts) > 0 {
				break
			}
			if s, ok := o.Str(k); ok && strings.TrimSpace(s) != "" {
				parts = append(parts, strings.TrimSpace(s))
			}
		}
	} else if s := strings.TrimSpace(string(raw)); s != "" && !json.Valid(raw) {
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		if t := http.StatusText(status); t != "" {
			return t
		}
		return "status " + strconv.Itoa(status)
	}
	return strings.Join(parts, "; ")
}

// errorsText flattens {"field":["a","b"]} to "field: a, b" (fields sorted)
// and ["a","b"] to "a", "b".
func errorsText(raw json.RawMessage) []string {
	if o, ok := AsObject(raw); ok {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			if msgs := messages(o[k]); len(msgs) > 0 {
				out = append(out, k+": "+strings.Join(msgs, ", "))
			}
		}
		return out
	}
	return messages(raw)
}

// messages collects the texts of a string, an array of them, or objects
// with a "message", as validation errors nest them.
func messages(raw json.RawMessage) []string {
	if s, ok := Scalar(raw); ok {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		if o, ok := AsObject(raw); ok {
			if s, ok := o.Str("message"); ok && s != "" {
				return []string{s}
			}
		}
		return nil
	}
	var out []string
	for _, item := range list {
		out = append(out, messages(item)...)
	}
	return out
}
