package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Wide columns: long ids and values are never cut; the table is as wide
// as its widest cells and scrolls sideways (k9s's wide view, less -S).
var (
	wideKey   = bind("w", "w", "wide columns")
	wideLeft  = bind("left", "←", "scroll left")
	wideRight = bind("right", "→", "scroll right")
)

// wideStep is how far one ←/→ scrolls a wide table.
const wideStep = 8

// widths are the column widths: fitted to the screen, or in wide mode
// each column as wide as its widest cell seen so far.
func (t *tableView) widths() []int {
	if !t.wide {
		return layout(t.cols, t.want, t.width)
	}
	ws := make([]int, len(t.cols))
	for i, c := range t.cols {
		ws[i] = c.width
		if i < len(t.want) {
			ws[i] = max(ws[i], t.want[i])
		}
	}
	return ws
}

// lineWidth is the width of a row without the selection marker.
func (t *tableView) lineWidth() int {
	ws := t.widths()
	return sum(ws) + len(ws) - 1
}

// hcut is the part of a row (without the marker) that the screen shows:
// all of it when the columns fit the screen.
func (t *tableView) hcut(line string) string {
	if !t.wide {
		return line
	}
	view := max(1, t.width-markerWidth)
	t.xoff = clamp(t.xoff, 0, max(0, t.lineWidth()-view))
	return ansi.Cut(line, t.xoff, t.xoff+view)
}

// wideKeyMsg handles w, and ←/→ in wide mode; ok says it was one of them.
func (t *tableView) wideKeyMsg(msg tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	switch {
	case key.Matches(msg, wideKey):
		t.wide, t.xoff = !t.wide, 0
		if t.wide {
			return toast(toastInfo, "wide columns: ids and values shown whole, ←/→ scroll · w fits the width again"), true
		}
		return nil, true
	case t.wide && key.Matches(msg, wideLeft):
		t.xoff = max(0, t.xoff-wideStep)
		return nil, true
	case t.wide && key.Matches(msg, wideRight):
		t.xoff = min(t.xoff+wideStep, max(0, t.lineWidth()-(t.width-markerWidth)))
		return nil, true
	}
	return nil, false
}
