package ui

import (
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

func openPoller(t *testing.T) (*harness, *pollerScreen, model.Instance) {
	t.Helper()
	st := newStore(t)
	pd, _ := seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("p")
	return h, h.top().(*pollerScreen), pd
}

func TestPollerPreviewExpandsTheSinceTime(t *testing.T) {
	h, _, _ := openPoller(t)
	// contacts has a checkpoint 10 minutes ago; the query reaches one
	// minute further back.
	// The preview is the vendor call the hub URL turns into (API v2).
	h.contains("GET https://api.pipedrive.com/api/v2/persons?limit=100&sort_by=update_time", "updated_since=2026-03-14T14:58:26Z", "last successful poll",
		"GET https://api.pipedrive.com/api/v2/organizations?limit=100&sort_by=update_time", "updated_since=2026-03-14T13:08:26Z", "events enabled")
}

func TestPollerAddRemoveReset(t *testing.T) {
	h, s, pd := openPoller(t)
	h.key("x")
	if len(s.rows) != 2 || s.rows[0].name != "contacts" {
		t.Fatalf("after remove: %v", names(s.rows))
	}
	h.key("a") // the first hub resource the configuration lacks
	if s.mode != modeResource || s.fieldValue("name") != "accounts" {
		t.Fatalf("add opened %v %q", s.mode, s.fieldValue("name"))
	}
	h.key("ctrl+u")
	h.typeText("deals")
	h.key("tab", "ctrl+u")
	h.typeText("/deals?since=${epoch}")
	h.contains("GET https://api.pipedrive.com/v1/deals?limit=100&since=1773493706") // preview while typing
	h.key("esc")
	if s.mode != modeRows || len(s.rows) != 3 || s.rows[1].name != "deals" {
		t.Fatalf("rows %v", names(s.rows))
	}
	h.key("ctrl+s")
	got, _ := h.st.Instance(t.Context(), pd.ID)
	pc, err := got.Poller()
	if err != nil || len(pc) != 3 || pc["deals"].URL != "/deals?since=${epoch}" {
		t.Fatalf("saved %v %v", pc, err)
	}
	h.key("R")
	h.contains("Replace the resources with Pipedrive's defaults")
	h.key("y")
	if strings.Join(names(s.rows), ",") != "accounts,contacts,opportunities" || !s.dirty() {
		t.Fatalf("reset gave %v", names(s.rows))
	}
	h.key("esc")
	h.contains("Discard the unsaved poller changes?")
}

func TestPollerRejectsBadValues(t *testing.T) {
	h, s, _ := openPoller(t)
	h.key("enter", "tab", "ctrl+u")
	h.typeText("/x?d=${nope}")
	h.key("esc")
	if len(s.rowProblems("accounts")) == 0 {
		t.Fatal("an unknown ${…} variable should be a problem")
	}
	h.key("ctrl+s")
	if !strings.Contains(h.app.toast.text, "not saved") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}

func TestPollerRawModeMarksTheErrorLine(t *testing.T) {
	h, s, _ := openPoller(t)
	h.key("t")
	if s.mode != modeRaw || !s.rawOK || s.dirty() {
		t.Fatalf("raw mode: ok=%v dirty=%v", s.rawOK, s.dirty())
	}
	h.key("down", "end", "backspace") // drop the '{' after "accounts":
	if s.rawOK || s.raw.mark != 3 {
		t.Fatalf("ok=%v mark=%d probs=%v", s.rawOK, s.raw.mark, s.rawProbs)
	}
	h.contains("line 3, column 10")
	h.key("esc")
	if s.mode != modeRaw || !s.confirm.active {
		t.Fatal("esc on broken JSON must ask before discarding, not leave")
	}
	h.contains("Discard the raw")
	h.key("n") // no: stay and fix it
	if s.mode != modeRaw || s.confirm.active {
		t.Fatalf("n must keep raw mode: mode %v", s.mode)
	}
	h.typeText("{")
	if !s.rawOK || s.raw.mark != 0 {
		t.Fatalf("fixed JSON still flagged: %v", s.rawProbs)
	}
	h.key("esc")
	if s.mode != modeRows || s.dirty() {
		t.Fatalf("mode %v dirty %v", s.mode, s.dirty())
	}
}

// Raw mode never traps: ctrl+z takes edits back, and esc on broken JSON
// offers to discard the raw edits, which restores the rows.
func TestPollerRawModeUndoAndDiscard(t *testing.T) {
	h, s, _ := openPoller(t)
	before := configJSON(s.rows, false)
	h.key("t", "down", "end", "backspace")
	if s.rawOK {
		t.Fatal("dropping the brace must break the JSON")
	}
	h.key("ctrl+z")
	if !s.rawOK || configJSON(s.rows, false) != before {
		t.Fatalf("ctrl+z did not restore the JSON: %v", s.rawProbs)
	}
	// A typed word is one undo step.
	h.key("end")
	h.typeText("xyz")
	h.key("ctrl+z")
	if !s.rawOK {
		t.Fatalf("one ctrl+z must take back the typed word: %q", s.raw.Value())
	}
	h.contains("ctrl+z undo")
	// Break it again and discard with esc, y.
	h.key("backspace", "backspace", "esc")
	h.contains("Discard the raw")
	h.key("y")
	if s.mode != modeRows || s.dirty() || configJSON(s.rows, false) != before {
		t.Fatalf("discard must restore the rows: mode %v dirty %v", s.mode, s.dirty())
	}
	h.contains("discarded the raw JSON edits")
}

func TestTextEditorUndo(t *testing.T) {
	e := newTextEditor()
	e.SetValue("ab")
	if e.Update(keyOf("ctrl+z")) {
		t.Fatal("nothing to undo yet")
	}
	e.Update(keyOf("end"))
	for _, k := range []string{"c", "d", "space", "e", "backspace", "enter"} {
		e.Update(keyOf(k))
	}
	// Undo walks back: enter, backspace, "e", space, "cd".
	for i, w := range []string{"abcd ", "abcd e", "abcd ", "abcd", "ab"} {
		if !e.Update(keyOf("ctrl+z")) || e.Value() != w {
			t.Fatalf("undo %d: got %q, want %q", i+1, e.Value(), w)
		}
	}
}

func names(rows []pollerRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.name)
	}
	return out
}

// "/" narrows the resources; the keys then act on the row under the
// cursor among those shown, and esc clears the filter before it leaves.
func TestPollerFilter(t *testing.T) {
	h, s, _ := openPoller(t)
	h.key("/")
	h.typeText("opport")
	h.key("enter")
	h.contains("1 of 3", "opportunities")
	if strings.Contains(h.view(), "/hubs/crm/contacts") {
		t.Fatalf("the filter left contacts on screen:\n%s", h.view())
	}
	h.key("x") // removes opportunities, not the first row of all
	if strings.Join(names(s.rows), ",") != "accounts,contacts" {
		t.Fatalf("x under the filter removed the wrong row: %v", names(s.rows))
	}
	h.contains("no resource matches the filter — esc clears it")
	h.key("esc")
	if s.filter.Active() {
		t.Fatal("esc did not clear the filter")
	}
	h.contains("accounts", "contacts")
	h.key("esc")
	h.contains("Discard the unsaved poller changes?")
}

// a names the new resource after the first hub resource the configuration
// lacks, then "resource2", "resource3"…, so adding never starts a duplicate.
func TestPollerAddPicksAFreeName(t *testing.T) {
	h, s, _ := openPoller(t)
	for _, want := range []string{"leads", "resource2", "resource3"} {
		h.key("a")
		if got := s.fieldValue("name"); got != want {
			t.Fatalf("a offered %q, want %q (rows %v)", got, want, names(s.rows))
		}
		h.key("esc")
	}
	if len(s.rows) != 6 {
		t.Fatalf("rows %v, want the three defaults and three added", names(s.rows))
	}
}

// The resource editor checks as the user types, with the form's field
// list: an error shows under its field and goes when the field is fixed;
// a page size that is no number keeps the editor open, focused on it.
func TestPollerResourceErrorsFollowTyping(t *testing.T) {
	h, s, _ := openPoller(t)
	h.key("enter", "tab", "ctrl+u")
	h.typeText("/x?d=${nope}")
	h.contains("✗ ") // under the URL, before leaving the editor
	if len(s.resourceEditor.list.errs["url"]) == 0 {
		t.Fatalf("no error under the URL: %v\n%s", s.resourceEditor.list.errs, h.view())
	}
	for range len("${nope}") {
		h.key("backspace")
	}
	if len(s.resourceEditor.list.errs["url"]) != 0 || strings.Contains(h.view(), "✗") {
		t.Fatalf("the fixed URL keeps its error:\n%s", h.view())
	}
	for s.resourceEditor.list.focused().key != "pageSize" {
		h.key("tab")
	}
	h.typeText("ten")
	h.contains(`✗ pageSize must be a whole number, got "ten"`)
	h.key("tab", "esc")
	if s.mode != modeResource || s.resourceEditor.list.focused().key != "pageSize" {
		t.Fatalf("esc with a bad page size: mode %v focus %s", s.mode, s.resourceEditor.list.focused().key)
	}
	h.key("ctrl+u", "esc")
	if s.mode != modeRows || s.rows[0].r.URL != "/x?d=" {
		t.Fatalf("mode %v rows %+v", s.mode, s.rows)
	}
}

// f1 shows the keys of the mode the editor is in, not the rows' keys.
func TestPollerHelpFollowsTheMode(t *testing.T) {
	h, _, _ := openPoller(t)
	h.key("t", "f1")
	h.contains("ctrl+z", "undo", "back to rows")
	if strings.Contains(h.view(), "reset to defaults") {
		t.Fatalf("raw mode's help shows the rows' keys:\n%s", h.view())
	}
	h.key("f1", "esc", "enter", "f1")
	h.contains("shift+tab/↑", "next/done")
	if strings.Contains(h.view(), "reset to defaults") {
		t.Fatalf("the resource editor's help shows the rows' keys:\n%s", h.view())
	}
}
