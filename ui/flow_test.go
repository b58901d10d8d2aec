package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
)

// TestFlowCreateListPoller drives the root model as a user would: create
// an instance through the form, find it in the list, open its poller
// editor and read the next request.
func TestFlowCreateListPoller(t *testing.T) {
	h := newHarness(t, nil, 100, 30)
	h.contains("No instances yet")

	h.key("n")
	h.contains("New instance", "Element")
	h.key("right") // closeio → pipedrive
	h.key("tab")
	h.typeText("Sales pipeline")
	h.key("tab")
	h.typeText("crm, demo")
	h.key("tab")
	h.typeText("pd-token-123")
	h.key("tab", "tab", "tab", "tab") // email, password, base URL → events enabled
	h.key("space")
	h.key("tab", "left") // vendor type webhook → polling
	h.key("tab")
	h.typeText("https://app.example.com/hook")
	h.key("tab", "tab", "tab")
	h.typeText("ops") // callback user
	h.key("tab")
	h.typeText("s3cret") // callback password
	h.key("tab")
	h.typeText(`{"X-Team":"sales"}`)
	h.key("tab", "ctrl+u")
	h.typeText("5")
	h.key("ctrl+s")

	if got := h.top().Title(); got != "Instances" {
		t.Fatalf("after save top = %q\n%s", got, h.view())
	}
	if !strings.Contains(h.app.toast.text, "created instance #1 Sales pipeline") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	h.contains("Sales pipeline", "pipedrive", "polling", "active", "never")
	in, err := h.st.Instance(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if in.Configuration[model.KeyPipedriveToken] != "pd-token-123" || in.Configuration[model.KeyRefreshInterval] != "5" ||
		!in.Polling() || strings.Join(in.Tags, "|") != "crm|demo" {
		t.Fatalf("stored %+v", in)
	}
	if c := in.Configuration; c[model.KeyBasicUsername] != "ops" || c[model.KeyBasicPassword] != "s3cret" || c[model.KeyCallbackHeaders] != `{"X-Team":"sales"}` {
		t.Fatalf("callback auth and headers stored as %q, %q, %q", c[model.KeyBasicUsername], c[model.KeyBasicPassword], c[model.KeyCallbackHeaders])
	}

	h.key("p")
	h.contains("Sales pipeline", "3 resource(s)", "polling every 5 min", "Next requests",
		// Created and enabled at testNow: the query starts a minute before.
		"GET https://api.pipedrive.com/api/v2/organizations?limit=100&sort_by=update_time", "updated_since=2026-03-14T15:08:26Z")
	h.key("esc")
	h.key("enter")
	h.contains("#1 Sales pipeline", "MQ==")
	h.key("G")
	h.contains("never polled", "Recent events")
}

// fakeWebhooks records registrations.
type fakeWebhooks struct{ reg, unreg []int64 }

func (f *fakeWebhooks) Register(_ context.Context, id int64) (model.Instance, error) {
	f.reg = append(f.reg, id)
	return model.Instance{ID: id}, nil
}

func (f *fakeWebhooks) Unregister(_ context.Context, id int64) (model.Instance, error) {
	f.unreg = append(f.unreg, id)
	return model.Instance{ID: id}, nil
}

func TestFlowRegisterWebhook(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	wh := &fakeWebhooks{}
	h := newHarness(t, st, 100, 30, func(d *engine.LocalOptions) { d.Webhooks = wh })
	h.key("enter", "w")
	h.contains("Register a webhook with Pipedrive")
	h.key("y")
	if len(wh.reg) != 1 || wh.reg[0] != 1 || !strings.Contains(h.app.toast.text, "webhook registered") {
		t.Fatalf("reg %v toast %q", wh.reg, h.app.toast.text)
	}
	h.key("W", "y")
	if len(wh.unreg) != 1 {
		t.Fatalf("unreg %v", wh.unreg)
	}
}
