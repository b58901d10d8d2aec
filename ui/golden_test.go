package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// sizes are the terminal sizes every main screen is checked at.
var sizes = []struct{ w, h int }{{100, 30}, {80, 24}}

// TestGoldenViews renders each main screen at each size against
// testdata/<screen>_<w>x<h>.golden; regenerate with -update.
func TestGoldenViews(t *testing.T) {
	screens := []struct {
		name  string
		empty bool
		drive func(h *harness)
		// prep adds to the seeded store before the console starts.
		prep func(t testing.TB, st *store.Store)
	}{
		{"instances_empty", true, func(h *harness) {}, nil},
		{"instances", false, func(h *harness) {}, nil},
		{"help", false, func(h *harness) { h.key("?") }, nil},
		{"help_detail", false, func(h *harness) { h.key("enter", "?") }, nil},
		{"help_events", false, func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter", "?") }, nil},
		{"help_form", false, func(h *harness) { h.key("n", "?") }, nil},
		{"palette", false, func(h *harness) { h.key(":", "e") }, nil},
		{"filter", false, func(h *harness) { h.key("/"); h.typeText("close") }, nil},
		{"delete_confirm", false, func(h *harness) { h.key("d") }, nil},
		{"detail", false, func(h *harness) { h.key("enter") }, nil},
		{"detail_pollerror", false, func(h *harness) { h.key("enter", "G", "k", "k", "k", "k", "k", "k", "k") }, failedPoll},
		{"form_new", false, func(h *harness) { h.key("n") }, nil},
		{"form_errors", false, func(h *harness) { h.key("n", "right", "ctrl+s") }, nil},
		{"form_edit", false, func(h *harness) { h.key("e") }, nil},
		{"poller", false, func(h *harness) { h.key("p") }, nil},
		{"poller_resource", false, func(h *harness) { h.key("p", "enter") }, nil},
		{"poller_raw", false, func(h *harness) { h.key("p", "t", "down", "end", "backspace") }, nil},
		{"events", false, func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter") }, nil},
		{"event", false, func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter", "down", "enter") }, nil},
		{"deliveries", false, func(h *harness) { h.key(":"); h.typeText("deliveries"); h.key("enter") }, nil},
		{"rejected", false, func(h *harness) { h.key(":"); h.typeText("rejected"); h.key("enter") }, nil},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				st := newStore(t)
				if !sc.empty {
					seed(t, st)
				}
				if sc.prep != nil {
					sc.prep(t, st)
				}
				h := newHarness(t, st, sz.w, sz.h)
				sc.drive(h)
				got := h.view()
				checkSize(t, got, sz.w, sz.h)
				checkNothingVitalCut(t, got, sz.w)
				golden(t, name, got)
			})
		}
	}
}

// failedPoll stores a poll that failed as a DNS failure does: the cause
// comes last, after a long request URL.
func failedPoll(t testing.TB, st *store.Store) {
	t.Helper()
	if err := st.SetPollStatus(t.Context(), model.PollStatus{InstanceID: 1, Resource: "accounts", LastStart: testNow.Add(-3 * time.Minute), LastEnd: testNow.Add(-3 * time.Minute),
		NextDue: testNow.Add(2 * time.Minute),
		LastError: "GET https://api.pipedrive.com/api/v2/organizations?limit=100&sort_by=update_time&updated_since=2026-03-14T13:08:26Z: " +
			"dial tcp: lookup api.pipedrive.com: no such host"}); err != nil {
		t.Fatal(err)
	}
}

// checkSize makes sure a frame is exactly the terminal's height and never
// wider than it, so nothing wraps or scrolls.
func checkSize(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := splitLines(frame)
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipglossWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide (> %d): %q", i+1, lw, w, l)
		}
	}
}

// TestGoldenErrorPopup: a failed webhook registration at 80x24 shows the
// whole error, the remedy included, in a popup that stays.
func TestGoldenErrorPopup(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 80, 24)
	h.key("down", "enter", "w", "y")
	got := h.view()
	checkSize(t, got, 80, 24)
	checkNothingVitalCut(t, got, 80)
	golden(t, "error_popup_80x24", got)
}
