package ui

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

func TestListMove(t *testing.T) {
	k := DefaultListKeys()
	cases := []struct {
		key             string
		cursor, n, page int
		want            int
	}{
		{"j", 0, 5, 3, 1}, {"k", 0, 5, 3, 0}, {"down", 4, 5, 3, 4}, {"G", 1, 5, 3, 4}, {"g", 3, 5, 3, 0},
		{"pgdown", 0, 10, 4, 4}, {"pgup", 2, 10, 4, 0}, {"j", 0, 0, 3, 0},
	}
	for _, c := range cases {
		got, ok := k.move(keyOf(c.key), c.cursor, c.n, c.page)
		if !ok || got != c.want {
			t.Errorf("%s from %d of %d: got %d (%v), want %d", c.key, c.cursor, c.n, got, ok, c.want)
		}
	}
	if _, ok := k.move(keyOf("x"), 0, 5, 3); ok {
		t.Error("x is not a move")
	}
}

func TestLayoutFitsWidth(t *testing.T) {
	cols := []column{{width: 4}, {width: 10, flex: 1}, {width: 8}, {width: 6, flex: 2}}
	for _, w := range []int{20, 40, 80, 200} {
		ws := layout(cols, nil, w)
		total := markerWidth
		shown := 0
		for _, x := range ws {
			if x > 0 {
				total += x
				shown++
			}
		}
		total += shown - 1
		if total > w {
			t.Errorf("width %d: columns take %d (%v)", w, total, ws)
		}
		if w >= 80 && total != w {
			t.Errorf("width %d: flexible columns should fill it, got %d", w, total)
		}
	}
}

// Spare width goes first to flexible columns whose content is cut, the
// shorter one whole before the longer takes the rest; once all content
// fits, what is left is shared by weight so the table spans the width.
func TestLayoutGivesSpareWidthToCutContent(t *testing.T) {
	cols := []column{{width: 4}, {width: 10, flex: 1}, {width: 8}, {width: 6, flex: 2}}
	span := func(ws []int) int {
		n := markerWidth - 1 // no separator before the first column
		for _, w := range ws {
			if w > 0 {
				n += w + 1
			}
		}
		return n
	}
	ws := layout(cols, []int{0, 22, 0, 40}, 60)
	if ws[1] != 22 || ws[3] != 21 || span(ws) != 60 {
		t.Errorf("cut content: %v (spans %d)", ws, span(ws))
	}
	// Weights alone would have given the short column less than it needs.
	if old := layout(cols, nil, 60); old[1] >= 22 {
		t.Fatalf("the case does not test anything: %v", old)
	}
	ws = layout(cols, []int{0, 12, 0, 7}, 60)
	if ws[1] < 12 || ws[3] < 7 || span(ws) != 60 {
		t.Errorf("all fits: %v (spans %d)", ws, span(ws))
	}
	for _, w := range []int{10, 20, 30} {
		if ws := layout(cols, []int{0, 50, 0, 50}, w); span(ws) > w {
			t.Errorf("width %d: %v spans %d", w, ws, span(ws))
		}
	}
}

func TestMatchAll(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{{"", true}, {"acme", true}, {"ACME lead", true}, {"acme nope", false}} {
		if got := matchAll(c.q, "Acme Inc", "lead_1"); got != c.want {
			t.Errorf("%q: %v", c.q, got)
		}
	}
}

func TestLineInputEditing(t *testing.T) {
	in := newLineInput("")
	in.Focus()
	for _, k := range []string{"h", "e", "l", "o", "left", "l", "home", "x", "end", "backspace"} {
		in.Update(keyOf(k))
	}
	if got := in.Value(); got != "xhell" {
		t.Fatalf("value %q", got)
	}
	in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a\nb"), Paste: true})
	if got := in.Value(); got != "xhella b" {
		t.Fatalf("paste gave %q", got)
	}
	in.Update(keyOf("ctrl+u"))
	if in.Value() != "" {
		t.Fatal("ctrl+u should clear before the cursor")
	}
}

func TestTextEditor(t *testing.T) {
	e := newTextEditor()
	e.SetValue("{\n  \"a\": 1\n}")
	e.Update(keyOf("down"))
	e.Update(keyOf("end"))
	e.Update(keyOf("enter"))
	e.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(`"b": 2`)})
	if got := e.Value(); got != "{\n  \"a\": 1\n  \"b\": 2\n}" {
		t.Fatalf("value %q", got)
	}
	e.Update(keyOf("home"))
	e.Update(keyOf("backspace")) // joins with the line above
	if l, c := e.Cursor(); l != 2 || c != 9 {
		t.Fatalf("cursor %d:%d", l, c)
	}
}

func TestOSC52(t *testing.T) {
	var b bytes.Buffer
	if err := (&OSC52{W: &b}).Copy("hi"); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "\x1b]52;c;aGk=\a" {
		t.Fatalf("plain: %q", got)
	}
	b.Reset()
	(&OSC52{W: &b, Tmux: true}).Copy("hi")
	want := "\x1b]52;c;aGk=\a" + "\x1bPtmux;\x1b\x1b]52;c;aGk=\a\x1b\\"
	if got := b.String(); got != want {
		t.Fatalf("tmux: %q, want %q", got, want)
	}
	if err := (&OSC52{W: &b}).Copy(strings.Repeat("x", osc52Limit)); err != ErrTooLong {
		t.Fatalf("long copy: %v", err)
	}
}

func TestColorJSONPlainIsIdentity(t *testing.T) {
	s, ok := prettyJSON([]byte(`{"a":[1,true,null,"x"]}`))
	if !ok {
		t.Fatal("valid JSON")
	}
	st := DefaultStyles()
	if got := colorJSON(st, s); got != s {
		t.Fatalf("plain colouring changed the text: %q", got)
	}
	st.Plain = false
	if got := colorJSON(st, s); got != s {
		// With the Ascii profile styles render nothing, so the tokens
		// must come back unchanged and in order.
		t.Fatalf("token walk changed the text: %q", got)
	}
	if _, ok := prettyJSON([]byte("not json")); ok {
		t.Fatal("invalid JSON reported as valid")
	}
}

func TestStatsRate(t *testing.T) {
	var s stats
	s.apply(statsMsg{at: testNow, lastID: 100, recent: 10, first: true})
	if s.perMin != 10 {
		t.Fatalf("initial rate %d", s.perMin)
	}
	s.apply(statsMsg{at: testNow.Add(30e9), lastID: 130})
	if s.perMin != 40 {
		t.Fatalf("rate after 30s %d", s.perMin)
	}
	s.apply(statsMsg{at: testNow.Add(120e9), lastID: 130})
	if s.perMin != 0 {
		t.Fatalf("idle minute rate %d", s.perMin)
	}
}

func TestCauseFirst(t *testing.T) {
	inner := errors.New("no such host")
	tests := []struct {
		text          string
		err           error
		cause, during string
	}{
		{"poll #5 failed: accounts: GET https://x/y?a=1: no such host", fmt.Errorf("accounts: GET https://x/y?a=1: %w", inner), "no such host", "poll #5 failed: accounts: GET https://x/y?a=1"},
		// Over the API the chain is gone: the last ": " part is the cause.
		{"replay failed: eventdesk at http://h: notification 7 not found (HTTP 404)", errors.New("eventdesk at http://h: notification 7 not found (HTTP 404)"), "notification 7 not found (HTTP 404)", "replay failed: eventdesk at http://h"},
		{"plain message", nil, "plain message", ""},
		{"import: x: ab", nil, "import: x: ab", ""}, // too short to be a cause
	}
	for _, tt := range tests {
		c, d := causeFirst(tt.text, tt.err)
		if c != tt.cause || d != tt.during {
			t.Errorf("causeFirst(%q) = %q, %q; want %q, %q", tt.text, c, d, tt.cause, tt.during)
		}
	}
}

func TestCommonDir(t *testing.T) {
	tests := []struct {
		paths []string
		want  string
	}{
		{[]string{"/elements/api-v2/events/closeio/OTk=", "/elements/api-v2/events/pipedrive/MQ=="}, "/elements/api-v2/events/"},
		{[]string{"/elements/api-v2/events/closeio/OTk="}, "/elements/api-v2/events/"},
		{[]string{"/elements/api-v2/events/closeio/OTk=", "/other"}, ""},
		{[]string{"/a/b", "/a/c"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := commonDir(tt.paths); got != tt.want {
			t.Errorf("commonDir(%q) = %q, want %q", tt.paths, got, tt.want)
		}
	}
}

func TestLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "<1ms", 400 * time.Microsecond: "<1ms", time.Millisecond: "1ms", 1234567 * time.Microsecond: "1.235s"} {
		if got := latency(d); got != want {
			t.Errorf("latency(%v) = %q, want %q", d, got, want)
		}
	}
}
