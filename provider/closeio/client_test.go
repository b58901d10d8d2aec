package closeio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

type captured struct {
	method, path, contentType string
	user, pass                string
	basic                     bool
	body                      map[string]any
}

func server(t *testing.T, status int, resp string, got *captured) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.contentType = r.Header.Get("Content-Type")
		got.user, got.pass, got.basic = r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &got.body); err != nil {
				t.Errorf("request body %q: %v", b, err)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/api/v1", APIKey: "api_key_123", HTTPClient: srv.Client()}
}

const created = `{"id":"whsub_8AmjKCZYT3zI8eZoi4HhFC","url":"https://hooks.example.com/h","status":"active","verify_ssl":true,"signature_key":"058bfb6a3d8cfdc4da7c3be5901b16ae11da982b46a25fb2cd7016e97a140a1c","events":[]}`

func TestRegisterWebhook(t *testing.T) {
	var got captured
	c := server(t, http.StatusOK, created, &got)
	sub, err := c.RegisterWebhook(context.Background(), "https://hooks.example.com/h", []string{"lead", "contacts", "contact", "opportunity"})
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/api/v1/webhook/" {
		t.Errorf("request = %s %s, want POST /api/v1/webhook/", got.method, got.path)
	}
	if !got.basic || got.user != "api_key_123" || got.pass != "" || got.contentType != "application/json" {
		t.Errorf("basic auth %v %q:%q, Content-Type %q", got.basic, got.user, got.pass, got.contentType)
	}
	ev := func(o, a string) any { return map[string]any{"object_type": o, "action": a} }
	wantBody := map[string]any{
		"url": "https://hooks.example.com/h",
		"events": []any{
			ev("lead", "created"), ev("lead", "updated"), ev("lead", "deleted"), ev("lead", "merged"),
			ev("contact", "created"), ev("contact", "updated"), ev("contact", "deleted"),
			ev("opportunity", "created"), ev("opportunity", "updated"), ev("opportunity", "deleted"),
		},
	}
	if !reflect.DeepEqual(got.body, wantBody) {
		t.Errorf("body = %v\nwant %v", got.body, wantBody)
	}
	want := Subscription{ID: "whsub_8AmjKCZYT3zI8eZoi4HhFC", SignatureKey: "058bfb6a3d8cfdc4da7c3be5901b16ae11da982b46a25fb2cd7016e97a140a1c", URL: "https://hooks.example.com/h", Status: "active"}
	if sub != want {
		t.Errorf("subscription = %+v, want %+v", sub, want)
	}
}

func TestRegisterWebhookDefaultTypes(t *testing.T) {
	var got captured
	c := server(t, http.StatusOK, created, &got)
	if _, err := c.RegisterWebhook(context.Background(), "https://hooks.example.com/h", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(got.body["events"].([]any)); n != 10 {
		t.Errorf("%d events subscribed, want 10", n)
	}
}

func TestRegisterWebhookNoSignatureKey(t *testing.T) {
	var got captured
	c := server(t, http.StatusOK, `{"id":"whsub_1"}`, &got)
	sub, err := c.RegisterWebhook(context.Background(), "https://hooks.example.com/h", []string{"lead"})
	if !errors.Is(err, ErrNoSignatureKey) || sub.ID != "whsub_1" {
		t.Fatalf("sub %+v, error %v", sub, err)
	}
	c = server(t, http.StatusOK, `{"signature_key":"ab"}`, &got)
	if _, err := c.RegisterWebhook(context.Background(), "https://hooks.example.com/h", []string{"lead"}); err == nil || !strings.Contains(err.Error(), "no subscription id") {
		t.Fatalf("error %v", err)
	}
}

func TestDeleteWebhook(t *testing.T) {
	var got captured
	c := server(t, http.StatusOK, `{}`, &got)
	if err := c.DeleteWebhook(context.Background(), "whsub_8AmjKCZYT3zI8eZoi4HhFC"); err != nil {
		t.Fatal(err)
	}
	if got.method != "DELETE" || got.path != "/api/v1/webhook/whsub_8AmjKCZYT3zI8eZoi4HhFC/" || got.user != "api_key_123" {
		t.Errorf("request = %s %s user %q", got.method, got.path, got.user)
	}
	if err := c.DeleteWebhook(context.Background(), " "); err == nil {
		t.Error("empty id accepted")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		delete   bool
		msg      string
		sentinel error
	}{
		{"400 field errors", 400, `{"errors":[],"field-errors":{"url":"Enter a valid URL."}}`, false,
			"closeio: POST /webhook/: 400: url: Enter a valid URL.", nil},
		{"400 errors list", 400, `{"errors":["Too many subscriptions."],"field-errors":{}}`, false,
			"closeio: POST /webhook/: 400: Too many subscriptions.", nil},
		{"401", 401, `{"error":"The API key you provided is invalid."}`, false,
			"closeio: POST /webhook/: 401: The API key you provided is invalid.", ErrCredentialsRejected},
		{"404 on delete", 404, `{"error":"Not found"}`, true,
			"closeio: DELETE /webhook/whsub_1/: 404: Not found", ErrNotFound},
		{"429 empty", 429, ``, false,
			"closeio: POST /webhook/: 429: Too Many Requests", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got captured
			cl := server(t, c.status, c.body, &got)
			var err error
			if c.delete {
				err = cl.DeleteWebhook(context.Background(), "whsub_1")
			} else {
				_, err = cl.RegisterWebhook(context.Background(), "https://x.example/h", []string{"contact"})
			}
			if err == nil || err.Error() != c.msg {
				t.Fatalf("error = %v, want %q", err, c.msg)
			}
			var api *APIError
			if !errors.As(err, &api) || api.Status != c.status {
				t.Errorf("not an *APIError with status %d: %#v", c.status, err)
			}
			for _, s := range []error{ErrCredentialsRejected, ErrNotFound} {
				if errors.Is(err, s) != (s == c.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, errors.Is(err, s))
				}
			}
			if strings.Contains(err.Error(), "api_key_123") {
				t.Error("API key leaked into the error")
			}
		})
	}
}

func TestNoKeyMakesNoCall(t *testing.T) {
	var got captured
	c := server(t, 200, created, &got)
	c.APIKey = ""
	if err := c.DeleteWebhook(context.Background(), "whsub_1"); err == nil {
		t.Fatal("no error without an API key")
	}
	if got.method != "" {
		t.Error("request sent without a key")
	}
}
