package ui

import (
	"cmp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// The sort keys every list screen has (k9s sorts from a menu too): o
// picks the column, O turns the order round.
var (
	sortKey    = bind("o", "o", "sort by…")
	reverseKey = bind("O", "O", "reverse sort")
)

// sortDir is a list's sort direction; sortNone keeps the rows in the
// order they come from the engine.
type sortDir int

const (
	sortNone sortDir = iota
	sortAsc
	sortDesc
)

func (d sortDir) arrow() string {
	switch d {
	case sortAsc:
		return "↑"
	case sortDesc:
		return "↓"
	}
	return ""
}

func (d sortDir) reversed() sortDir {
	if d == sortAsc {
		return sortDesc
	}
	return sortAsc
}

// listOrder is how a list is sorted: by column col in direction dir, or
// in its natural order when dir is sortNone.
type listOrder struct {
	col int
	dir sortDir
}

// naturalOrder describes the order rows come in, which is every list's
// default: the column it follows and its direction, so O can turn it
// round, and words for the sort menu ("newest first").
type naturalOrder struct {
	col  int
	dir  sortDir
	text string
}

// pick is the order after choosing column col in the menu: a new column
// sorts ascending, the sorted one turns round.
func (o listOrder) pick(col int) listOrder {
	if o.dir != sortNone && o.col == col {
		return listOrder{col: col, dir: o.dir.reversed()}
	}
	return listOrder{col: col, dir: sortAsc}
}

// reverse is the order after O: the sorted column turns round; the
// natural order becomes its column in the other direction.
func (o listOrder) reverse(nat naturalOrder) listOrder {
	if o.dir == sortNone {
		return listOrder{col: nat.col, dir: nat.dir.reversed()}
	}
	return listOrder{col: o.col, dir: o.dir.reversed()}
}

// compareText orders cell text as people read it: case does not count,
// and runs of digits compare as numbers, so "obj-9" comes before
// "obj-10" and "404" after "99".
func compareText(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, nb := digitRun(a), digitRun(b)
			ta, tb := strings.TrimLeft(a[:na], "0"), strings.TrimLeft(b[:nb], "0")
			if c := cmp.Compare(len(ta), len(tb)); c != 0 {
				return c
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			a, b = a[na:], b[nb:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		a, b = a[sa:], b[sb:]
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// sortMenu is the small "sort by" menu o opens over a list: the natural
// order, then each column, with digits as shortcuts.
type sortMenu struct {
	active bool
	cursor int // 0 is the natural order, i is column i-1
}

// open shows the menu with the current order under the cursor.
func (m *sortMenu) open(o listOrder) {
	m.active = true
	m.cursor = 0
	if o.dir != sortNone {
		m.cursor = o.col + 1
	}
}

// menuPick is a choice made in the menu: col is -1 for the natural order.
type menuPick struct {
	col    int
	chosen bool
}

// Update handles a key while the menu is open over n columns.
func (m *sortMenu) Update(msg tea.KeyMsg, n int) menuPick {
	switch {
	case msg.Type == tea.KeyEsc || msg.String() == "q" || key.Matches(msg, sortKey):
		m.active = false
	case msg.Type == tea.KeyUp || msg.String() == "k" || msg.Type == tea.KeyShiftTab:
		m.cursor = (m.cursor + n) % (n + 1)
	case msg.Type == tea.KeyDown || msg.String() == "j" || msg.Type == tea.KeyTab:
		m.cursor = (m.cursor + 1) % (n + 1)
	case msg.Type == tea.KeyHome || msg.String() == "g":
		m.cursor = 0
	case msg.Type == tea.KeyEnd || msg.String() == "G":
		m.cursor = n
	case msg.Type == tea.KeyEnter || msg.Type == tea.KeySpace:
		m.active = false
		return menuPick{col: m.cursor - 1, chosen: true}
	case msg.Type == tea.KeyRunes && len(msg.Runes) == 1 && msg.Runes[0] >= '0' && msg.Runes[0] <= '9':
		if i := int(msg.Runes[0] - '0'); i <= n {
			m.active = false
			return menuPick{col: i - 1, chosen: true}
		}
	}
	return menuPick{}
}

// View is the menu's box: one line per choice, the current order marked
// with its arrow. On a body of fewer than h lines it drops its spacing
// and its key line (the key hint has them) so every choice shows.
func (m *sortMenu) View(st Styles, title string, cols []column, o listOrder, nat naturalOrder, h int) string {
	labels := make([]string, 0, len(cols)+1)
	natural := "default order"
	if nat.text != "" {
		natural += " (" + nat.text + ")"
	}
	if o.dir == sortNone {
		natural += " ✓"
	}
	labels = append(labels, natural)
	for i, c := range cols {
		l := strings.ToLower(c.title)
		if o.dir != sortNone && o.col == i {
			l += " " + o.dir.arrow()
		}
		labels = append(labels, l)
	}
	width := 0
	for i, l := range labels {
		width = max(width, len(menuDigit(i))+1+lipglossWidth(l))
	}
	lines := []string{st.Title.Render("Sort " + title + " by"), ""}
	for i, l := range labels {
		line := menuDigit(i) + " " + l
		if i == m.cursor {
			lines = append(lines, st.Selected.Render(pad("▸ "+line, width+2)))
			continue
		}
		lines = append(lines, "  "+st.Focused.Render(menuDigit(i))+" "+l)
	}
	lines = append(lines, "", st.Focused.Render("enter")+st.Muted.Render(" sort · again reverses · ")+st.Focused.Render("esc")+st.Muted.Render(" close"))
	box := st.Dialog.Render(strings.Join(lines, "\n"))
	if extra := lipgloss.Height(box) - len(lines); len(lines)+extra > h {
		lines = append(lines[:1], lines[2:len(lines)-2]...)
		box = st.Dialog.Render(strings.Join(lines, "\n"))
	}
	return box
}

// menuDigit is the shortcut of menu line i: digits for the first ten.
func menuDigit(i int) string {
	if i <= 9 {
		return strconv.Itoa(i)
	}
	return " "
}
