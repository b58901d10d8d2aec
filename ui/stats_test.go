package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// The status bar shows store.Overview's counts, the ones /metrics
// reports: pending is everything still to be delivered, and failing is
// named when a notification waits for a retry.
func TestStatusBarReadsOverview(t *testing.T) {
	st := newStore(t)
	name := "bar"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &name,
		Configuration: map[string]json.RawMessage{
			model.KeyPipedriveToken: json.RawMessage(`"t"`), model.KeyEventsEnabled: json.RawMessage(`"true"`),
			model.KeyVendorType: json.RawMessage(`"webhook"`), model.KeyCallbackURL: json.RawMessage(`"https://example.com/cb"`),
		}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		ev := model.Event{InstanceID: in.ID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "contacts", ObjectID: id, EventType: model.Updated, Raw: json.RawMessage(`{}`)}
		if _, err := st.AppendEvents(t.Context(), []model.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	// bar renders the status bar over each side of the engine boundary.
	bar := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, kind := range backendKinds {
			opts := engine.LocalOptions{Addr: "127.0.0.1:8470", PublicURL: "http://127.0.0.1:8470", Now: func() time.Time { return testNow }}
			var b backend.Backend = engine.NewLocal(st, opts)
			if kind == "remote" {
				b = remoteBackend(t, st, opts)
			}
			ctx := newContext(Deps{Backend: b}, Options{Now: func() time.Time { return testNow }})
			var s stats
			s.apply(loadStats(ctx, true)().(statsMsg))
			out[kind] = ansi.Strip(s.View(ctx.Styles, 120))
		}
		return out
	}
	for kind, got := range bar() {
		if !strings.Contains(got, "2 pending · 0 dead") {
			t.Errorf("%s, before any attempt: %q", kind, got)
		}
	}
	list, _, err := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: in.ID}, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("notifications %v, %v", list, err)
	}
	oldest := list[len(list)-1]
	err = st.RecordAttempts(t.Context(), []store.AttemptRecord{{State: model.StatePending, NextAttempt: testNow.Add(time.Minute),
		Attempt: model.Attempt{NotificationID: oldest.ID, N: 1, Time: testNow, Status: 500}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if o.Pending+o.Failing != 2 || o.Failing != 1 {
		t.Errorf("overview pending %d failing %d, want 1 and 1", o.Pending, o.Failing)
	}
	for kind, got := range bar() {
		if !strings.Contains(got, "2 pending · 1 failing · 0 dead") {
			t.Errorf("%s, after a failed attempt: %q", kind, got)
		}
	}
}
