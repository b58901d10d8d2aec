package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type captured struct {
	method, path, token, contentType string
	body                             map[string]any
}

func server(t *testing.T, status int, resp string, got *captured) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.token = r.Header.Get("x-api-token")
		got.contentType = r.Header.Get("Content-Type")
		if r.URL.RawQuery != "" {
			t.Errorf("unexpected query %q (the token belongs in the header)", r.URL.RawQuery)
		}
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
	return &Client{BaseURL: srv.URL + "/v1/", APIToken: "tok-123", HTTPClient: srv.Client()}
}

const created = `{"status":"ok","success":true,"data":{"id":1,"company_id":1,"owner_id":1,"user_id":1,"event_action":"*","event_object":"*","subscription_url":"https://hooks.example.com/elements/api-v2/events/pipedrive/MjA5MzE=","version":"2.0","is_active":1,"add_time":"2019-10-25T08:25:27.000Z","remove_time":null,"type":"general","http_auth_user":"u","http_auth_password":"p","remove_reason":null,"last_delivery_time":null,"last_http_status":null,"admin_id":1,"name":"eventdesk 20931"}}`

func TestRegisterWebhook(t *testing.T) {
	var got captured
	c := server(t, http.StatusCreated, created, &got)
	hookURL := "https://hooks.example.com/elements/api-v2/events/pipedrive/MjA5MzE="
	w, err := c.RegisterWebhook(context.Background(), hookURL, "eventdesk 20931", "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/v1/webhooks" {
		t.Errorf("request = %s %s, want POST /v1/webhooks", got.method, got.path)
	}
	if got.token != "tok-123" || got.contentType != "application/json" {
		t.Errorf("x-api-token %q, Content-Type %q", got.token, got.contentType)
	}
	wantBody := map[string]any{
		"subscription_url": hookURL, "event_action": "*", "event_object": "*", "name": "eventdesk 20931",
		"version": "2.0", "http_auth_user": "u", "http_auth_password": "p",
	}
	if len(got.body) != len(wantBody) {
		t.Errorf("body = %v, want %v", got.body, wantBody)
	}
	for k, v := range wantBody {
		if got.body[k] != v {
			t.Errorf("body[%s] = %v, want %v", k, got.body[k], v)
		}
	}
	wantHook := Webhook{ID: "1", Name: "eventdesk 20931", SubscriptionURL: hookURL, EventAction: "*", EventObject: "*", Version: "2.0", HTTPAuthUser: "u", Active: true}
	if w != wantHook {
		t.Errorf("webhook = %+v, want %+v", w, wantHook)
	}
}

func TestDeleteWebhook(t *testing.T) {
	var got captured
	c := server(t, http.StatusOK, `{"status":"ok","success":true}`, &got)
	if err := c.DeleteWebhook(context.Background(), "4710827"); err != nil {
		t.Fatal(err)
	}
	if got.method != "DELETE" || got.path != "/v1/webhooks/4710827" || got.token != "tok-123" {
		t.Errorf("request = %s %s token %q", got.method, got.path, got.token)
	}
	if err := c.DeleteWebhook(context.Background(), ""); err == nil {
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
		{"400 field errors", 400, `{"status":"error","success":false,"errors":{"subscription_url":["invalid or non-reachable URL"]}}`, false,
			"pipedrive: POST /webhooks: 400: subscription_url: invalid or non-reachable URL", nil},
		{"401", 401, `{"success":false,"error":"unauthorized access","errorCode":401}`, false,
			"pipedrive: POST /webhooks: 401: unauthorized access", ErrCredentialsRejected},
		{"403 on delete", 403, `{"success":false,"message":"Forbidden"}`, true,
			"pipedrive: DELETE /webhooks/7: 403: Forbidden", nil},
		{"404 on delete", 404, `{"status":"error","success":false,"errors":{"id":["not found"]}}`, true,
			"pipedrive: DELETE /webhooks/7: 404: id: not found", ErrNotFound},
		{"502 html", 502, `<html>Bad Gateway</html>`, false,
			"pipedrive: POST /webhooks: 502: <html>Bad Gateway</html>", nil},
		{"500 empty", 500, ``, false,
			"pipedrive: POST /webhooks: 500: Internal Server Error", nil},
		{"200 success false", 200, `{"success":false,"error":"quota exceeded"}`, false,
			"pipedrive: POST /webhooks: 200: quota exceeded", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got captured
			cl := server(t, c.status, c.body, &got)
			var err error
			if c.delete {
				err = cl.DeleteWebhook(context.Background(), "7")
			} else {
				_, err = cl.RegisterWebhook(context.Background(), "https://x.example/h", "n", "u", "p")
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
			if strings.Contains(err.Error(), "tok-123") {
				t.Error("token leaked into the error")
			}
		})
	}
}

func TestNoTokenMakesNoCall(t *testing.T) {
	var got captured
	c := server(t, 201, created, &got)
	c.APIToken = ""
	_, err := c.RegisterWebhook(context.Background(), "https://x.example/h", "n", "u", "p")
	if err == nil || !strings.Contains(err.Error(), "pipedrive.api.token") {
		t.Fatalf("error = %v", err)
	}
	if got.method != "" {
		t.Error("request sent without a token")
	}
}

func TestTransportErrorAndMissingID(t *testing.T) {
	var got captured
	c := server(t, 201, `{"success":true,"data":{"name":"x"}}`, &got)
	if _, err := c.RegisterWebhook(context.Background(), "https://x.example/h", "n", "u", "p"); err == nil || !strings.Contains(err.Error(), "no webhook id") {
		t.Errorf("missing id: error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.DeleteWebhook(ctx, "1")
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "pipedrive: DELETE /webhooks/1: ") {
		t.Errorf("cancelled: error = %v", err)
	}
}
