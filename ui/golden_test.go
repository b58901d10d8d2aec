package ui

import (
	"fmt"
	"testing"
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
	}{
		{"instances_empty", true, func(h *harness) {}},
		{"instances", false, func(h *harness) {}},
		{"help", false, func(h *harness) { h.key("?") }},
		{"palette", false, func(h *harness) { h.key(":", "e") }},
		{"filter", false, func(h *harness) { h.key("/"); h.typeText("close") }},
		{"delete_confirm", false, func(h *harness) { h.key("d") }},
		{"detail", false, func(h *harness) { h.key("enter") }},
		{"form_new", false, func(h *harness) { h.key("n") }},
		{"form_errors", false, func(h *harness) { h.key("n", "right", "ctrl+s") }},
		{"form_edit", false, func(h *harness) { h.key("e") }},
		{"poller", false, func(h *harness) { h.key("p") }},
		{"poller_resource", false, func(h *harness) { h.key("p", "enter") }},
		{"poller_raw", false, func(h *harness) { h.key("p", "t", "down", "end", "backspace") }},
		{"events", false, func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter") }},
		{"event", false, func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter", "down", "enter") }},
		{"deliveries", false, func(h *harness) { h.key(":"); h.typeText("deliveries"); h.key("enter") }},
		{"rejected", false, func(h *harness) { h.key(":"); h.typeText("rejected"); h.key("enter") }},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				st := newStore(t)
				if !sc.empty {
					seed(t, st)
				}
				h := newHarness(t, st, sz.w, sz.h)
				sc.drive(h)
				got := h.view()
				checkSize(t, got, sz.w, sz.h)
				golden(t, name, got)
			})
		}
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
