package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestQuitKeys(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.key("q")
	if !h.quit {
		t.Fatal("q at the top screen should quit")
	}
	h = newHarness(t, nil, 80, 24)
	h.key(":")
	h.typeText("rejected")
	h.key("enter")
	h.key("q")
	if h.quit {
		t.Fatal("q below the top screen must not quit")
	}
	h.key("ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c always quits")
	}
	// Even while typing into a form.
	h = newHarness(t, nil, 80, 24)
	h.key("n", "tab")
	h.typeText("q")
	if h.quit {
		t.Fatal("q typed into a form field quit")
	}
	h.key("ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c in a form should quit")
	}
}

func TestEscGoesBackAndHelpToggles(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	if got := h.top().Title(); got != "Deliveries" {
		t.Fatalf("top = %q", got)
	}
	h.key("?")
	h.contains("Keys — Deliveries", "s/tab")
	h.key("esc")
	if !strings.Contains(h.view(), "[all]") || strings.Contains(h.view(), "Keys —") {
		t.Fatalf("esc should close help first:\n%s", h.view())
	}
	h.key("esc")
	if got := h.top().Title(); got != "Instances" {
		t.Fatalf("after esc top = %q", got)
	}
	h.key("esc") // nothing below home
	if len(h.app.stack) != 1 {
		t.Fatal("esc at home must keep home")
	}
}

func TestPaletteCompletion(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.key(":")
	h.typeText("de")
	h.contains("deliveries")
	h.key("tab")
	if got := h.app.pal.input.Value(); got != "deliveries" {
		t.Fatalf("tab completed to %q", got)
	}
	h.key("enter")
	if got := h.top().Title(); got != "Deliveries" {
		t.Fatalf("palette opened %q", got)
	}
	h.key(":")
	h.typeText("bogus")
	h.key("enter")
	if !strings.Contains(h.app.toast.text, "unknown command") {
		t.Fatalf("toast = %q", h.app.toast.text)
	}
	// An id that names no instance says so, and opens nothing.
	h.key(":")
	h.typeText("events 7")
	h.key("enter")
	if _, ok := h.top().(*eventsScreen); ok || !strings.Contains(h.app.toast.text, "no instance 7") {
		t.Fatalf("top %s, toast %q", h.top().Title(), h.app.toast.text)
	}
	h.key(":")
	h.typeText("q")
	h.key("enter")
	if !h.quit {
		t.Fatal(":q should quit")
	}
}

// ":events ID" and ":deliveries ID" open the lists of an existing
// instance, checked through the engine boundary.
func TestPaletteJumpToInstance(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			h := newHarnessOn(t, kind, st, 80, 24)
			h.key(":")
			h.typeText("events 2")
			h.key("enter")
			if s, ok := h.top().(*eventsScreen); !ok || s.instID != 2 {
				t.Fatalf("top = %s", h.top().Title())
			}
			h.key(":")
			h.typeText("deliveries 99")
			h.key("enter")
			if _, ok := h.top().(*eventsScreen); !ok || !strings.Contains(h.app.toast.text, "no instance 99") {
				t.Fatalf("top %s, toast %q", h.top().Title(), h.app.toast.text)
			}
		})
	}
}

func TestResizeKeepsFrameSize(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("enter")
	for _, sz := range []struct{ w, h int }{{80, 24}, {60, 15}, {120, 40}, {100, 30}} {
		h.send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		checkSize(t, h.view(), sz.w, sz.h)
	}
}

func TestCopyShowsTextInToast(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("y")
	want := "http://127.0.0.1:8470/elements/api-v2/events/pipedrive/MQ=="
	if len(h.clip.copied) != 1 || h.clip.copied[0] != want {
		t.Fatalf("copied %q", h.clip.copied)
	}
	if !strings.Contains(h.app.toast.text, want) {
		t.Fatalf("toast %q lacks the URL", h.app.toast.text)
	}
}

func TestToastExpiresOnlyItsOwn(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.send(toastMsg{text: "first"})
	first := h.app.toast.seq
	h.send(toastMsg{text: "second"})
	h.send(toastExpiredMsg{seq: first})
	if h.app.toast.text != "second" {
		t.Fatalf("an old timer cleared a newer toast: %q", h.app.toast.text)
	}
	h.send(toastExpiredMsg{seq: h.app.toast.seq})
	if h.app.toast.text != "" {
		t.Fatal("toast did not expire")
	}
}

// A terminal read can hold several keys typed in a row; they act as if
// typed one by one (here ":events" then enter opens the live feed).
func TestKeysReadTogetherActOneByOne(t *testing.T) {
	h := newHarness(t, nil, 100, 30)
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(":events")})
	h.key("enter")
	h.contains("Instances › Events")
}

// A narrow header keeps the public URL whole and drops the listen address.
func TestHeaderKeepsThePublicURL(t *testing.T) {
	h := newHarness(t, nil, 60, 24)
	if got := splitLines(h.view())[0]; !strings.Contains(got, "public http://127.0.0.1:8470") || strings.Contains(got, "…") {
		t.Fatalf("header %q", got)
	}
}

// Column widths do not jump when a filter leaves narrower rows.
func TestColumnsStableUnderFilter(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("events")
	h.key("enter")
	before := splitLines(h.view())[2]
	h.key("/")
	h.typeText("t:leads")
	h.key("enter")
	if after := splitLines(h.view())[2]; after != before {
		t.Fatalf("the header moved:\n%s\n%s", before, after)
	}
}
