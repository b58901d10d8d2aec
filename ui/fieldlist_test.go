package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// testFieldList is three text fields; check says a field that holds
// "bad" is wrong.
func testFieldList(wrap bool) *fieldList {
	l := newFieldList(formFieldKeys(), wrap, nil)
	l.fields = []formField{
		textField("a", "First", "help of a", true),
		textField("b", "Second", "", false),
		textField("c", "Third", "", false),
	}
	l.check = func() map[string][]string {
		errs := map[string][]string{}
		for _, f := range l.fields {
			if f.value() == "bad" {
				errs[f.key] = []string{f.label + " must not be bad"}
			}
		}
		return errs
	}
	return &l
}

func TestFieldListFocusMoves(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap bool
		keys []string
		want int
		last fieldResult
	}{
		{"tab goes down", false, []string{"tab"}, 1, fieldMoved},
		{"down is tab", false, []string{"down", "down"}, 2, fieldMoved},
		{"tab stops at the last field", false, []string{"tab", "tab", "tab"}, 2, fieldMoved},
		{"shift+tab stops at the first", false, []string{"shift+tab"}, 0, fieldMoved},
		{"tab wraps to the first field", true, []string{"tab", "tab", "tab"}, 0, fieldMoved},
		{"shift+tab wraps to the last", true, []string{"shift+tab"}, 2, fieldMoved},
		{"up wraps too", true, []string{"up", "up"}, 1, fieldMoved},
		{"enter goes down", false, []string{"enter"}, 1, fieldMoved},
		{"enter on the last field submits", true, []string{"shift+tab", "enter"}, 2, fieldSubmit},
		{"typing edits, focus stays", false, []string{"tab", "x"}, 1, fieldEdited},
		{"a key no field uses is ignored", false, []string{"pgdown"}, 0, fieldIgnored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testFieldList(tc.wrap)
			var got fieldResult
			for _, k := range tc.keys {
				got = l.Update(keyOf(k))
			}
			if l.focus != tc.want || got != tc.last {
				t.Errorf("focus %d result %v, want %d %v", l.focus, got, tc.want, tc.last)
			}
		})
	}
}

// Errors show only once shown (after a save, say); from then on each edit
// checks again, so fixing a field clears its error and breaking another
// shows one, without moving the focus.
func TestFieldListErrorClearedOnEdit(t *testing.T) {
	l := testFieldList(false)
	l.field("a").setValue("bad")
	l.field("c").setValue("bad")
	l.Update(keyOf("x")) // not showing errors yet: nothing is checked
	if len(l.errs) != 0 {
		t.Fatalf("errors before any were shown: %v", l.errs)
	}
	l.field("a").setValue("bad")
	l.revalidate()
	l.focusError()
	if l.focus != 0 || len(l.errs["a"]) != 1 || len(l.errs["c"]) != 1 {
		t.Fatalf("focus %d errs %v", l.focus, l.errs)
	}
	view := func() string {
		lines, _, _ := l.View(DefaultStyles(), 80, false, nil)
		return strings.Join(lines, "\n")
	}
	if v := view(); !strings.Contains(v, "✗ First must not be bad") || !strings.Contains(v, "✗ Third must not be bad") {
		t.Fatalf("errors not under their fields:\n%s", v)
	}
	l.Update(keyOf("backspace"))
	if len(l.errs["a"]) != 0 || len(l.errs["c"]) != 1 || l.focus != 0 {
		t.Fatalf("after fixing a: focus %d errs %v", l.focus, l.errs)
	}
	if v := view(); strings.Contains(v, "First must not be bad") || !strings.Contains(v, "Third must not be bad") {
		t.Fatalf("the fixed field keeps its error, or the other lost its:\n%s", v)
	}
	l.Update(keyOf("tab"))
	for _, k := range []string{"b", "a", "d"} {
		l.Update(keyOf(k))
	}
	if len(l.errs["b"]) != 1 {
		t.Fatalf("breaking b after errors were shown must show its error: %v", l.errs)
	}
	l.clearErrors()
	l.Update(keyOf("x"))
	if len(l.errs) != 0 {
		t.Fatalf("cleared errors came back: %v", l.errs)
	}
}

// At a narrow width an error wraps under its field, indented past the
// labels, instead of being cut; nothing is wider than the width.
func TestFieldListWrapsErrorsAtNarrowWidth(t *testing.T) {
	l := testFieldList(false)
	long := "must be an absolute http or https URL such as https://app.example.com/hook, got something else entirely"
	l.showErrors(map[string][]string{"b": {long}})
	const w = 40
	lines, top, bottom := l.View(DefaultStyles(), w, false, nil)
	if top != 0 || bottom != 1 {
		t.Errorf("focused field at lines %d–%d, want 0–1 (its line and its help)", top, bottom)
	}
	var errLines []string
	for _, ln := range lines {
		if ansi.StringWidth(ln) > w {
			t.Errorf("line wider than %d: %q", w, ln)
		}
		if strings.HasPrefix(ln, spaces(labelWidth+4)) && !strings.Contains(ln, "help of a") {
			errLines = append(errLines, strings.TrimSpace(ln))
		}
	}
	if len(errLines) < 3 || !strings.HasPrefix(errLines[0], "✗ must be") {
		t.Fatalf("error not wrapped under its field:\n%s", strings.Join(lines, "\n"))
	}
	// A word longer than the line (the URL) is broken inside, so compare
	// without the spaces.
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if got := squash(strings.TrimPrefix(strings.Join(errLines, " "), "✗ ")); got != squash(long) {
		t.Errorf("wrapped error lost text:\n got %q\nwant %q", got, long)
	}
	if !strings.Contains(lines[len(lines)-2], "Third") && !strings.Contains(lines[len(lines)-1], "Third") {
		t.Errorf("the field after the error is missing:\n%s", strings.Join(lines, "\n"))
	}
}
