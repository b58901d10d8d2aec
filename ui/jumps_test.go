package ui

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

// e on a notification (in the list and on its page) opens live events
// narrowed to the events it carries, in process and attached alike.
func TestNotificationToItsEvents(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			ns, _, err := st.Notifications(t.Context(), model.NotificationFilter{}, 10)
			if err != nil || len(ns) != 1 {
				t.Fatalf("notifications %v, %v", ns, err)
			}
			want := slices.Clone(ns[0].EventIDs)
			slices.Reverse(want) // newest first
			h := newHarnessOn(t, kind, st, 100, 30)
			h.key(":")
			h.typeText("deliveries")
			h.key("enter")
			check := func(from string) {
				t.Helper()
				s, ok := h.top().(*eventsScreen)
				if !ok {
					t.Fatalf("e from %s opened %T", from, h.top())
				}
				var got []string
				for _, e := range s.rows {
					got = append(got, e.ID)
				}
				if !slices.Equal(got, want) || s.follow {
					t.Fatalf("e from %s: events %v (follow %v), want %v", from, got, s.follow, want)
				}
				h.contains("filter: n:1")
			}
			h.key("e")
			check("the list")
			h.key("esc", "esc") // clear the filter, then back
			if _, ok := h.top().(*deliveriesScreen); !ok {
				t.Fatalf("esc esc left %T on top", h.top())
			}
			h.key("enter", "e")
			check("the notification's page")
			// The filter can be edited: narrowed by a free word.
			h.key("/")
			h.typeText(" obj-a")
			h.key("enter")
			if s := h.top().(*eventsScreen); len(s.rows) != 1 || s.rows[0].ObjectID != "obj-a" {
				t.Fatalf("n:1 obj-a: %+v", s.rows)
			}
			// A notification that does not exist says so.
			h.key("/", "ctrl+u")
			h.typeText("n:99")
			h.key("enter")
			h.contains("notification 99")
		})
	}
}

// w shows long ids whole, scrolled sideways with ←/→; w again fits the
// table to the screen.
func TestWideColumns(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	long := "deal-7f3a9c2e-1b4d-4e8f-a6c5-9d0e2f4b7a18-with-a-long-tail"
	if _, err := st.AppendEvents(t.Context(), []model.Event{{InstanceID: pd.ID, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "deals",
		ObjectID: long, EventType: model.Updated, ReceivedAt: testNow, Raw: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 80, 24)
	h.key(":")
	h.typeText("events")
	h.key("enter")
	if strings.Contains(h.view(), long) {
		t.Fatal("the long id fits without wide mode: the test proves nothing")
	}
	h.key("w")
	h.key("right", "right", "right", "right", "right", "right", "right", "right")
	h.contains(long)
	golden(t, "events_wide_80x24", h.view())
	h.key("left")
	h.key("w")
	if strings.Contains(h.view(), long) {
		t.Error("w again left the wide columns")
	}
	// The deliveries list has it too.
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	s := h.top().(*deliveriesScreen)
	h.key("w")
	if !s.table.wide {
		t.Error("w on deliveries did not widen the columns")
	}
}
