package pipedrive

import (
	"bytes"
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

// Error reads "pipedrive: <method> <path>: <status>: <message>".
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
	id, _ := vendorjson.Scalar(data.ID)
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

// do sends one request and, on success, decodes the envelope's data into out
// (when out is not nil). A 2xx answer with "success": false is an
// *APIError too, as Pipedrive reports some failures that way.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if c.APIToken == "" {
		return fmt.Errorf("pipedrive: %s %s: no API token (pipedrive.api.token)", method, path)
	}
	call := vendorjson.Call{
		Vendor: "pipedrive", BaseURL: c.BaseURL, DefaultBaseURL: DefaultBaseURL,
		Method: method, Path: path, In: in, HTTPClient: c.HTTPClient,
		Auth: func(req *http.Request) { req.Header.Set("x-api-token", c.APIToken) },
	}
	status, raw, err := call.Do(ctx)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return &APIError{Method: method, Path: path, Status: status, Message: vendorjson.Message(raw, status)}
	}
	var env struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			return call.Errorf("%d: response is not JSON: %w", status, err)
		}
	}
	if env.Success != nil && !*env.Success {
		return &APIError{Method: method, Path: path, Status: status, Message: vendorjson.Message(raw, status)}
	}
	if out != nil {
		if _, ok := vendorjson.AsObject(env.Data); !ok {
			return call.Errorf("%d: response has no data object", status)
		}
		if err := json.Unmarshal(env.Data, out); err != nil {
			return call.Errorf("%d: unexpected response: %w", status, err)
		}
	}
	return nil
}
