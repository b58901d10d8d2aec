package closeio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/eventdesk/eventdesk/provider/vendorjson"
)

// DefaultBaseURL is the element's default base.url.
const DefaultBaseURL = "https://api.close.com/api/v1"

// Errors an *APIError unwraps to, for errors.Is, and the missing-key case.
var (
	// ErrCredentialsRejected: Close answered 401 (bad or revoked API key).
	ErrCredentialsRejected = errors.New("close rejected the credentials")
	// ErrNotFound: Close answered 404 (e.g. the subscription is already gone).
	ErrNotFound = errors.New("closeio: not found")
	// ErrNoSignatureKey: Close created the subscription but its answer has no
	// signature_key; RegisterWebhook then returns the subscription (with its
	// ID, so it can be deleted) together with this error.
	ErrNoSignatureKey = errors.New("closeio: subscription has no signature_key")
)

// Client calls Close's API with HTTP Basic auth (API key, empty password).
type Client struct {
	// BaseURL is the instance's base.url; empty means DefaultBaseURL.
	BaseURL string
	// APIKey is the Basic auth user name (the instance's "username").
	APIKey string
	// Password is the Basic auth password; Close uses an empty one.
	Password string
	// HTTPClient defaults to a client with a 30-second timeout.
	HTTPClient *http.Client
}

// Subscription is a Close webhook subscription. SignatureKey (hex) goes to
// the instance's event.webhook.signature.key.
type Subscription struct {
	ID           string // whsub_…
	SignatureKey string
	URL          string
	Status       string
}

// APIError is a non-2xx answer from Close. Error() reads e.g.
// "closeio: POST /webhook/: 400: url: Enter a valid URL.". It unwraps to
// ErrCredentialsRejected on 401 and ErrNotFound on 404.
type APIError struct {
	Method  string
	Path    string // relative to the base URL
	Status  int
	Message string // the vendor's message
}

// Error reads "closeio: <method> <path>: <status>: <message>".
func (e *APIError) Error() string {
	return fmt.Sprintf("closeio: %s %s: %d: %s", e.Method, e.Path, e.Status, e.Message)
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

// DefaultObjectTypes are subscribed when RegisterWebhook gets none.
var DefaultObjectTypes = []string{"lead", "contact", "opportunity"}

// Actions lists the actions subscribed for an object type: created,
// updated, deleted, and for lead also merged.
func Actions(objectType string) []string {
	if objectType == "lead" {
		return []string{"created", "updated", "deleted", "merged"}
	}
	return []string{"created", "updated", "deleted"}
}

type subscribedEvent struct {
	ObjectType string `json:"object_type"`
	Action     string `json:"action"`
}

// RegisterWebhook subscribes url to the created/updated/deleted (and, for
// lead, merged) events of objectTypes, in order, duplicates dropped. Each
// type may be a Close object ("contact") or a hub resource ("contacts");
// none means DefaultObjectTypes.
func (c *Client) RegisterWebhook(ctx context.Context, url string, objectTypes []string) (Subscription, error) {
	const path = "/webhook/"
	if len(objectTypes) == 0 {
		objectTypes = DefaultObjectTypes
	}
	seen := map[string]bool{}
	events := []subscribedEvent{}
	for _, t := range objectTypes {
		t = strings.TrimSpace(t)
		if obj, ok := VendorObject(t); ok {
			t = obj
		}
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		for _, a := range Actions(t) {
			events = append(events, subscribedEvent{ObjectType: t, Action: a})
		}
	}
	if len(events) == 0 {
		return Subscription{}, fmt.Errorf("closeio: POST %s: no object types to subscribe", path)
	}
	req := struct {
		URL    string            `json:"url"`
		Events []subscribedEvent `json:"events"`
	}{url, events}
	var resp struct {
		ID           json.RawMessage `json:"id"`
		SignatureKey string          `json:"signature_key"`
		URL          string          `json:"url"`
		Status       string          `json:"status"`
	}
	if err := c.do(ctx, http.MethodPost, path, req, &resp); err != nil {
		return Subscription{}, err
	}
	id, _ := vendorjson.Scalar(resp.ID)
	if id == "" {
		return Subscription{}, fmt.Errorf("closeio: POST %s: response has no subscription id", path)
	}
	sub := Subscription{ID: id, SignatureKey: resp.SignatureKey, URL: resp.URL, Status: resp.Status}
	if sub.SignatureKey == "" {
		return sub, fmt.Errorf("closeio: POST %s: subscription %s: %w", path, id, ErrNoSignatureKey)
	}
	return sub, nil
}

// DeleteWebhook deletes the subscription with the given id. One that is
// already gone gives an error that errors.Is ErrNotFound.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if strings.TrimSpace(id) == "" {
		return errors.New("closeio: DELETE /webhook/{id}/: no subscription id")
	}
	return c.do(ctx, http.MethodDelete, "/webhook/"+url.PathEscape(id)+"/", nil, nil)
}

// do sends one request and, on success, decodes the JSON answer into out
// (when out is not nil). Close has no envelope: the answer is the object.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if c.APIKey == "" {
		return fmt.Errorf("closeio: %s %s: no API key (username)", method, path)
	}
	call := vendorjson.Call{
		Vendor: "closeio", BaseURL: c.BaseURL, DefaultBaseURL: DefaultBaseURL,
		Method: method, Path: path, In: in, HTTPClient: c.HTTPClient,
		Auth: func(req *http.Request) { req.SetBasicAuth(c.APIKey, c.Password) },
	}
	status, raw, err := call.Do(ctx)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return &APIError{Method: method, Path: path, Status: status, Message: vendorjson.Message(raw, status)}
	}
	if out != nil {
		if _, ok := vendorjson.AsObject(raw); !ok {
			return call.Errorf("%d: response is not a JSON object", status)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return call.Errorf("%d: unexpected response: %w", status, err)
		}
	}
	return nil
}
