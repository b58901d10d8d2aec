package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
)

func TestInstancesKeys(t *testing.T) {
	st := newStore(t)
	pd, cl := seed(t, st)
	poller := &fakePoller{}
	h := newHarness(t, st, 100, 30, func(d *engine.LocalOptions) { d.Poller = poller })
	s := h.top().(*instancesScreen)
	if len(s.rows) != 2 || s.rows[0].count != 8 || s.rows[1].count != 4 {
		t.Fatalf("rows %+v", s.rows)
	}
	h.key("j")
	if s.selected != cl.ID {
		t.Fatalf("j selected %d", s.selected)
	}
	h.key("k")
	if s.selected != pd.ID {
		t.Fatalf("k selected %d", s.selected)
	}
	h.key("P")
	if len(poller.calls) != 1 || poller.calls[0] != pd.ID {
		t.Fatalf("poll calls %v", poller.calls)
	}
	if !strings.Contains(h.app.toast.text, "2 new event") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	for k, want := range map[string]string{"enter": "#1 Pipedrive polling", "e": "Edit #1", "p": "Poller", "E": "Events of #1 Pipedrive polling", "n": "New instance"} {
		h.key(k)
		if got := h.top().Title(); got != want {
			t.Errorf("%s opened %q, want %q", k, got, want)
		}
		h.key("esc")
		if h.top() != s {
			t.Fatalf("esc after %s did not return home", k)
		}
	}
}

// errPoller fails every poll as a vendor outage would: the cause comes
// last, after a long URL.
type errPoller struct{}

func (errPoller) PollNow(context.Context, int64, string) ([]model.PollStatus, []model.Event, error) {
	return nil, nil, fmt.Errorf("accounts: GET https://api.pipedrive.com/api/v2/organizations?limit=100&sort_by=update_time&sort_direction=asc&updated_since=2026-03-14T14:58:26Z: %w",
		errors.New("no such host"))
}

// A failed poll is an error popup with the cause first, in full at 80x24,
// that stays until a key closes it; :messages keeps it afterwards.
func TestInstancesPollNowFailureIsAPopup(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			h := newHarnessOn(t, kind, st, 80, 24, func(d *engine.LocalOptions) { d.Poller = errPoller{} })
			h.key("P")
			v := h.view()
			if !strings.Contains(v, "✗ Error") || !strings.Contains(v, "no such host") || !strings.Contains(v, "while: poll #1 failed") {
				t.Fatalf("no error popup with the cause first:\n%s", v)
			}
			// The cause comes before the context, on screen and in the toast.
			if strings.Index(v, "no such host") > strings.Index(v, "while: poll #1") {
				t.Fatalf("cause after its context:\n%s", v)
			}
			checkSize(t, v, 80, 24)
			h.key("j") // any key closes it, and does nothing else
			if h.app.popup.active || h.top().(*instancesScreen).table.cursor != 0 {
				t.Fatal("the key that closes the popup must only close it")
			}
			h.key(":")
			h.typeText("messages")
			h.key("enter")
			h.contains("Messages", "error", "no such host", "while: poll #1 failed", "accounts: GET", "14T14:58:26Z")
		})
	}
}

func TestInstancesDeleteConfirm(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("d")
	h.contains("Delete instance #1")
	h.key("n")
	if all, _ := st.Instances(t.Context()); len(all) != 2 {
		t.Fatal("n deleted")
	}
	h.key("d", "y")
	all, _ := st.Instances(t.Context())
	if len(all) != 1 || all[0].ID != 2 {
		t.Fatalf("after y: %v", all)
	}
	if s := h.top().(*instancesScreen); len(s.rows) != 1 || s.rows[0].in.ID != 2 {
		t.Fatalf("list after delete: %+v", s.rows)
	}
	if !strings.Contains(h.app.toast.text, "deleted instance #1") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}

func TestInstancesFilter(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	s := h.top().(*instancesScreen)
	h.key("/")
	h.typeText("close")
	if len(s.visible) != 1 {
		t.Fatalf("typing narrowed to %d", len(s.visible))
	}
	h.key("q") // typed, not quit
	if h.quit || s.filter.Query() != "closeq" {
		t.Fatalf("q while filtering: quit=%v query=%q", h.quit, s.filter.Query())
	}
	h.key("backspace", "enter")
	if len(s.visible) != 1 || s.filter.Typing() {
		t.Fatal("enter should apply the filter")
	}
	h.key("esc")
	if len(s.visible) != 2 || len(h.app.stack) != 1 {
		t.Fatal("esc should clear the applied filter, not leave")
	}
}

func TestInstancesEmptySaysHowToBegin(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.contains("No instances yet", "create one with the form", "instance.json")
	h.key("enter")
	if !strings.Contains(h.app.toast.text, "press n") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}

// The count column is the engine's exact count, also past a thousand
// events (the console once capped its own count there).
func TestInstancesCountIsTheEnginesAggregate(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	evs := make([]model.Event, 1200)
	for i := range evs {
		evs[i] = model.Event{InstanceID: pd.ID, Source: model.SourcePolling, ObjectType: "contacts", ObjectID: "bulk-" + strconv.Itoa(i), EventType: model.Updated, ReceivedAt: testNow, Raw: json.RawMessage(`{}`)}
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 100, 30)
	h.contains("1208")
}

// A disabled instance (CE's "disabled": true, set through the API) is "on
// hold" on the home screen, and its detail says what that means for polls,
// webhooks and notifications.
func TestDisabledInstanceOnHold(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	on := true
	if _, err := st.UpdateInstance(t.Context(), pd.ID, func(cur model.Instance) (model.Instance, error) {
		return cur.Patch(model.InstanceRequest{Disabled: &on}, testNow)
	}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 120, 60)
	h.contains("on hold")
	h.key("enter")
	h.contains("instance disabled: not polled", "webhooks are still received and stored", "notifications wait", "not polling: the instance is disabled")
}

// The list and the detail have the same instance actions: every key that
// acts on an instance in one does the same in the other.
func TestInstanceActionsSameOnListAndDetail(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			rep := &fakeReplayer{}
			h := newHarnessOn(t, kind, st, 100, 40, func(d *engine.LocalOptions) { d.Replayer = rep })
			opens := map[string]string{"e": "Edit #1", "p": "Poller", "E": "Events of #1 Pipedrive polling", "D": "Deliveries of #1 Pipedrive polling"}
			asks := map[string]string{"d": "Delete instance #1", "R": "Replay every dead notification of #1", "w": "Register a webhook with", "W": "Delete the Pipedrive webhook"}
			for _, where := range []string{"list", "detail"} {
				if where == "detail" {
					h.key("enter")
				}
				home := h.top()
				for k, want := range opens {
					h.key(k)
					if got := h.top().Title(); got != want {
						t.Errorf("%s: %s opened %q, want %q", where, k, got, want)
					}
					h.key("esc")
				}
				for k, want := range asks {
					h.key(k)
					h.contains(want)
					h.key("n")
					if h.top() != home {
						t.Fatalf("%s: n after %s left the screen", where, k)
					}
				}
			}
			// x on the list opens the detail with the secrets shown.
			h.key("esc", "x")
			h.contains("pd-api-TOKEN-abcdef", "secrets shown")
			// d on the detail deletes and goes back to the list.
			h.key("d", "y")
			if _, ok := h.top().(*instancesScreen); !ok {
				t.Fatalf("after delete the top is %s", h.top().Title())
			}
			if s := h.top().(*instancesScreen); len(s.rows) != 1 || s.rows[0].in.ID != 2 {
				t.Fatalf("the deleted instance is still listed:\n%s", h.view())
			}
		})
	}
}
