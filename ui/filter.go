package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

type filterState int

// Filter states, after glow: none; typing (keys go to the input and the
// list narrows live); applied (the list stays narrowed, esc clears).
const (
	filterOff filterState = iota
	filterTyping
	filterApplied
)

// filterBox is the "/" filter every list has.
type filterBox struct {
	state filterState
	input lineInput
}

func newFilterBox() filterBox {
	in := newLineInput("type to filter")
	return filterBox{input: in}
}

// Start begins typing, keeping an applied query for refinement.
func (f *filterBox) Start() {
	f.state = filterTyping
	f.input.Focus()
	f.input.pos = len(f.input.value)
}

func (f *filterBox) Typing() bool { return f.state == filterTyping }

// Active reports whether the list is narrowed.
func (f *filterBox) Active() bool { return f.Query() != "" }

// Query is the text the list is narrowed by (live while typing).
func (f *filterBox) Query() string {
	if f.state == filterOff {
		return ""
	}
	return strings.TrimSpace(f.input.Value())
}

// Update handles a key while typing and reports whether the query changed.
// enter applies; esc clears; both stop typing.
func (f *filterBox) Update(msg tea.KeyMsg) (changed bool) {
	before := f.Query()
	switch msg.Type {
	case tea.KeyEnter:
		f.input.Blur()
		f.state = filterApplied
		if f.Query() == "" {
			f.state = filterOff
		}
	case tea.KeyEsc:
		f.Clear()
	case tea.KeyUp, tea.KeyDown:
		// Arrow keys apply the filter and move on in the list.
		f.input.Blur()
		f.state = filterApplied
	default:
		f.input.Update(msg)
	}
	return f.Query() != before
}

// Clear drops the filter.
func (f *filterBox) Clear() {
	f.state = filterOff
	f.input.Blur()
	f.input.SetValue("")
}

// Cancel clears an applied filter on esc; it reports whether there was one.
func (f *filterBox) Cancel() bool {
	if f.state == filterOff {
		return false
	}
	f.Clear()
	return true
}

// View is the filter line, or "" when there is no filter.
func (f *filterBox) View(st Styles, width int) string {
	switch f.state {
	case filterTyping:
		f.input.width = max(10, width-12)
		return st.Prompt.Render("/ ") + f.input.View(st) + st.Muted.Render("  enter apply · esc clear")
	case filterApplied:
		return truncate(st.Muted.Render("filter: ")+st.Info.Render(f.input.Value())+st.Muted.Render("  (/ edit · esc clear)"), width)
	}
	return ""
}

// matchAll reports whether every whitespace-separated term of query occurs
// (case-insensitively) in one of fields.
func matchAll(query string, fields ...string) bool {
	if query == "" {
		return true
	}
	hay := strings.ToLower(strings.Join(fields, "\x00"))
	for _, term := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(hay, term) {
			return false
		}
	}
	return true
}

// Apply narrows the list by q as if it had been typed and entered.
func (f *filterBox) Apply(q string) {
	f.input.SetValue(q)
	f.input.Blur()
	f.state = filterApplied
}
