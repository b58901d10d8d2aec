package ui

import (
	"strings"
	"testing"
)

func TestDeliveriesKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	rep := &fakeReplayer{}
	h := newHarness(t, st, 100, 30, func(d *Deps) { d.Replayer = rep })
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	s := h.top().(*deliveriesScreen)
	if len(s.rows) != 1 {
		t.Fatalf("%d notifications", len(s.rows))
	}
	h.key("r")
	if len(rep.one) != 1 || rep.one[0] != "1" {
		t.Fatalf("replayed %v", rep.one)
	}
	h.key("R")
	h.contains("Replay every dead notification of #1 Pipedrive polling?")
	h.key("y")
	if len(rep.dead) != 1 || rep.dead[0] != 1 {
		t.Fatalf("replay dead %v", rep.dead)
	}
	for _, want := range []string{"pending", "failing", "dead", "all"} {
		h.key("s")
		if deliveryViews[s.view] != want {
			t.Fatalf("s gave %s, want %s", deliveryViews[s.view], want)
		}
		if want == "dead" && len(s.rows) != 0 {
			t.Fatal("dead view lists a pending notification")
		}
	}
	h.key("enter")
	h.contains("Notification 1", "Attempts", "none yet", `"topic": "instance-1-pipedrive-events"`)
	h.key("c")
	if len(h.clip.copied) != 1 || !strings.Contains(h.clip.copied[0], `"severity": "medium"`) {
		t.Fatalf("copied %q", h.clip.copied)
	}
}

func TestDeliveriesWithoutDispatcher(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter", "r")
	if !strings.Contains(h.app.toast.text, "not available") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}

func TestRejectedKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("rejected")
	h.key("enter")
	h.contains("no instance 99", "203.0.113.9")
	h.key("/")
	h.typeText("nothing-like-this")
	if s := h.top().(*rejectedScreen); len(s.visible) != 0 {
		t.Fatal("filter did not narrow")
	}
	h.key("esc", "enter")
	h.contains("404 POST /elements/api-v2/events/closeio/OTk=", "Content-Type: application/json", `"id": "ev_1"`)
}

func TestDetailKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 60)
	h.key("enter")
	h.contains("Webhook URL", "pipedrive.api.token", "********", "Settings › Webhooks", "contacts", "ok", "https://app.example.com/callback")
	if strings.Contains(h.view(), "pd-api-TOKEN") {
		t.Fatal("secret shown before reveal")
	}
	h.key("x")
	h.contains("pd-api-TOKEN-abcdef", "secrets shown")
	h.key("x")
	h.key("w")
	if !strings.Contains(h.app.toast.text, "not available") {
		t.Fatalf("register without a registrar: %q", h.app.toast.text)
	}
	h.key("y")
	if len(h.clip.copied) != 1 || !strings.HasSuffix(h.clip.copied[0], "/pipedrive/MQ==") {
		t.Fatalf("copied %q", h.clip.copied)
	}
	for k, want := range map[string]string{"e": "Edit #1", "p": "Poller", "E": "Events of #1 Pipedrive polling", "D": "Deliveries of #1 Pipedrive polling"} {
		h.key(k)
		if got := h.top().Title(); got != want {
			t.Errorf("%s opened %q, want %q", k, got, want)
		}
		h.key("esc")
	}
}
