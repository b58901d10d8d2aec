package pipedrive

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

// DefaultBaseURL is the element's default base.url.
const DefaultBaseURL = "https://api.pipedrive.com/v1"

// Errors an *APIError unwraps to, for errors.Is.
var (
	// ErrCredentialsRejected: Pipedrive answered 401 (bad or revoked token).
	ErrCredentialsRejected = errors.New("pipedrive rejected the credentials")
	// ErrNotFound: Pipedrive answered 404 (e.g. the webhook is already gone).
	ErrNotFound = errors.New("pipedrive: not found")
)

// Client calls Pipedrive's API. The zero value is not usable: set APIToken.
type Client struct {
	// BaseURL is the instance's base.url, e.g. https://api.pipedrive.com/v1
	// or a company domain's /api/v1; request paths are appended to it.
	// Empty means DefaultBaseURL.
	BaseURL string
	// APIToken is sent in the x-api-token header.
	APIToken string
	// HTTPClient defaults to a client with a 30-second timeout.
	HTTPClient *http.Client
}

var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// Webhook is a Pipedrive webhook subscription as the API returns it.
type Webhook struct {
	ID              string // decimal
	Name            string
	SubscriptionURL string
	EventAction     string
	EventObject     string
	Version         string
	HTTPAuthUser    string
	Active          bool
}

// APIError is a non-2xx answer (or a 2xx with success false) from Pipedrive.
// Error() reads e.g. "pipedrive: POST /webhooks: 400: subscription_url:
// invalid or non-reachable URL". It unwraps to ErrCredentialsRejected on 401
// and ErrNotFound on 404.
type APIError struct {
	Method  string
	Path    string // relative to the base URL
	Status  int
	Message string // the vendor's message
}

func (e *APIError) Error() string {
	return fmt.Sprintf("pipedrive: %s %s: %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// Unwrap maps the status to a sentinel error.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrCredentialsRejected
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// RegisterWebhook subscribes subscriptionURL to every change of every object
// (event_action and event_object "*") in webhooks format 2.0. Pipedrive will
// send user and password as HTTP Basic credentials with each delivery.
func (c *Client) RegisterWebhook(ctx context.Context, subscriptionURL, name, user, password string) (Webhook, error) {
	req := map[string]string{
		"subscription_url":   subscriptionURL,
		"event_action":       "*",
		"event_object":       "*",
		"name":               name,
		"version":            "2.0",
		"http_auth_user":     user,
		"http_auth_password": password,
	}
	var data struct {
		ID              json.RawMessage `json:"id"`
		Name            string          `json:"name"`
		SubscriptionURL string          `json:"subscription_url"`
		EventAction     string          `json:"event_action"`
		EventObject     string          `json:"event_object"`
		Version         string          `json:"version"`
		HTTPAuthUser    *string         `json:"http_auth_user"`
		IsActive        json.RawMessage `json:"is_active"`
	}
	const path = "/webhooks"
	if err := c.do(ctx, http.MethodPost, path, req, &data); err != nil {
		return Webhook{}, err
	}
	id, _ := scalar(data.ID)
	if id == "" {
		return Webhook{}, fmt.Errorf("pipedrive: POST %s: response has no webhook id", path)
	}
	w := Webhook{
		ID:              id,
		Name:            data.Name,
		SubscriptionURL: data.SubscriptionURL,
		EventAction:     data.EventAction,
		EventObject:     data.EventObject,
		Version:         data.Version,
	}
	if data.HTTPAuthUser != nil {
		w.HTTPAuthUser = *data.HTTPAuthUser
	}
	active := string(bytes.TrimSpace(data.IsActive))
	w.Active = active == "1" || active == "true"
	return w, nil
}

// DeleteWebhook deletes the webhook with the given id. A webhook that is
// already gone gives an error that errors.Is ErrNotFound.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if strings.TrimSpace(id) == "" {
		return errors.New("pipedrive: DELETE /webhooks/{id}: no webhook id")
	}
	return c.do(ctx, http.MethodDelete, "/webhooks/"+url.PathEscape(id), nil, nil)
}

const maxResponse = 1 << 20

// do sends one request and, on success, decodes the envelope's data into out
// (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if c.APIToken == "" {
		return fmt.Errorf("pipedrive: %s %s: no API token (pipedrive.api.token)", method, path)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("pipedrive: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("pipedrive: %s %s: %w", method, path, err)
	}
	req.Header.Set("x-api-token", c.APIToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "eventdesk")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// Drop url.Error's URL: a base URL may carry credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("pipedrive: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("pipedrive: %s %s: reading response: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: vendorMessage(raw, resp.StatusCode)}
	}
	var env struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("pipedrive: %s %s: %d: response is not JSON: %w", method, path, resp.StatusCode, err)
		}
	}
	if env.Success != nil && !*env.Success {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: vendorMessage(raw, resp.StatusCode)}
	}
	if out != nil {
		if _, ok := asObject(env.Data); !ok {
			return fmt.Errorf("pipedrive: %s %s: %d: response has no data object", method, path, resp.StatusCode)
		}
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("pipedrive: %s %s: %d: unexpected response: %w", method, path, resp.StatusCode, err)
		}
	}
	return nil
}

// vendorMessage extracts the human message from an error body:
// {"errors":{"field":["msg"]}}, {"error":"msg"}, {"message":"msg"}, or the
// body's text; the status text when there is nothing.
func vendorMessage(raw []byte, status int) string {
	var parts []string
	if o, ok := asObject(raw); ok {
		parts = append(parts, errorsText(o["errors"])...)
		parts = append(parts, errorsText(o["field-errors"])...)
		for _, k := range []string{"error", "message", "error_info"} {
			if len(parts) > 0 {
				break
			}
			if s, ok := o.str(k); ok && strings.TrimSpace(s) != "" {
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
	if o, ok := asObject(raw); ok {
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

func messages(raw json.RawMessage) []string {
	if s, ok := scalar(raw); ok {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		if o, ok := asObject(raw); ok {
			if s, ok := o.str("message"); ok && s != "" {
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
