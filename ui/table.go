package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// column describes one table column: a minimum width, and a share of the
// spare width for flexible ones.
type column struct {
	title string
	width int
	flex  int
	right bool
}

// markerWidth is the selection marker's column ("▸ "): without colour the
// marker is the only sign of the selected row.
const markerWidth = 2

// layout fits the columns into width. Fixed columns keep their width.
// Spare width goes first to flexible columns whose content (want, the
// widest cell of each column; nil when unknown) is cut, in equal shares
// while several still need more, so a short column is shown whole before
// a long one takes the rest; what is left once every content fits widens
// the flexible columns by weight, so the table spans the width.
// When even the minimums do not fit, the last columns shrink (and finally
// vanish) first.
func layout(cols []column, want []int, width int) []int {
	ws := make([]int, len(cols))
	avail := width - markerWidth - (len(cols) - 1)
	total, flex := 0, 0
	for i, c := range cols {
		ws[i] = c.width
		total += c.width
		flex += c.flex
	}
	if spare := avail - total; spare > 0 && flex > 0 {
		need := make([]int, len(cols))
		for i, c := range cols {
			if c.flex > 0 && i < len(want) {
				need[i] = max(0, want[i]-ws[i])
			}
		}
		spare = fill(ws, need, spare)
		if spare > 0 {
			given, last := 0, -1
			for i, c := range cols {
				if c.flex > 0 {
					add := spare * c.flex / flex
					ws[i] += add
					given += add
					last = i
				}
			}
			ws[last] += spare - given
		}
	}
	for over := sum(ws) - avail; over > 0; over = sum(ws) - avail {
		// Shrink from the right, never below 3 cells, then drop.
		shrunk := false
		for i := len(ws) - 1; i >= 0 && over > 0; i-- {
			if ws[i] > 3 {
				d := min(over, ws[i]-3)
				ws[i] -= d
				over -= d
				shrunk = true
			}
		}
		if !shrunk {
			for i := len(ws) - 1; i >= 0; i-- {
				if ws[i] > 0 {
					avail += 1 // its separator goes too
					ws[i] = 0
					break
				}
			}
		}
	}
	return ws
}

// fill hands out spare cells to the columns that need them, in equal
// shares among those still short, never more than a column needs; it
// returns what is left.
func fill(ws []int, need []int, spare int) int {
	for spare > 0 {
		short := 0
		for _, n := range need {
			if n > 0 {
				short++
			}
		}
		if short == 0 {
			break
		}
		share := max(1, spare/short)
		for i, n := range need {
			if n == 0 || spare == 0 {
				continue
			}
			add := min(n, spare, share)
			ws[i] += add
			need[i] -= add
			spare -= add
		}
	}
	return spare
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// tableView draws a window of a table: only the visible rows are built, so
// a long list costs what the screen shows, not what it holds.
type tableView struct {
	cols []column
	// want is the widest cell of each flexible column over all the rows
	// the screen has shown (see measure), so spare width goes where text
	// is cut and the columns do not jump while scrolling or filtering.
	want           []int
	cursor, offset int
	width, height  int // height counts the header line
	// order puts an arrow on the sorted column's title.
	order listOrder
	// wide shows every column as wide as its widest cell, scrolled
	// sideways by xoff cells (widetable.go).
	wide bool
	xoff int
}

// measure records the widest cell of each column over n rows (the layout
// reads the flexible ones; wide mode all).
// Screens call it when their rows change, not on every frame. Widths only
// grow: a filter or a reload that leaves narrower rows keeps the columns
// where they were, so the eye does not have to find them again.
func (t *tableView) measure(n int, cell func(i int) []string) {
	if len(t.want) != len(t.cols) {
		t.want = make([]int, len(t.cols))
	}
	for i := 0; i < n; i++ {
		cells := cell(i)
		for c := range t.cols {
			t.want[c] = max(t.want[c], ansi.StringWidth(at(cells, c)))
		}
	}
}

// rows is how many data rows fit.
func (t *tableView) rows() int { return max(1, t.height-1) }

// follow scrolls so the cursor is visible.
func (t *tableView) follow(n int) {
	t.cursor = clamp(t.cursor, 0, n-1)
	h := t.rows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+h {
		t.offset = t.cursor - h + 1
	}
	t.offset = clamp(t.offset, 0, max(0, n-h))
}

// render draws the header and the visible rows. cell returns a row's plain
// cells; style may colour one cell (it gets the padded text).
func (t *tableView) render(st Styles, n int, cell func(i int) []string, style func(i, col int, padded string) string) string {
	t.follow(n)
	ws := t.widths()
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", markerWidth))
	b.WriteString(st.TableHeader.Render(t.hcut(t.header(ws))))
	end := min(n, t.offset+t.rows())
	for i := t.offset; i < end; i++ {
		b.WriteByte('\n')
		cells := cell(i)
		if i == t.cursor {
			line := "▸ " + t.hcut(joinCells(t.cols, ws, func(c int) string { return at(cells, c) }))
			b.WriteString(st.Selected.Render(pad(line, t.width)))
			continue
		}
		b.WriteString("  ")
		var row strings.Builder
		for c := range t.cols {
			if ws[c] == 0 {
				continue
			}
			if c > 0 {
				row.WriteByte(' ')
			}
			p := fit(at(cells, c), ws[c], t.cols[c].right)
			if style != nil {
				p = style(i, c, p)
			} else {
				p = st.Row.Render(p)
			}
			row.WriteString(p)
		}
		b.WriteString(t.hcut(row.String()))
	}
	return b.String()
}

// header is the titles line, with the sort arrow on the sorted column.
// The arrow never widens a column (the widths stay where they were): it
// goes after the title, or before a right-aligned one; when the title
// fills its column the arrow takes the space that separates it from its
// neighbour, and only when there is none is the title cut.
func (t *tableView) header(ws []int) string {
	sorted := -1
	if t.order.dir != sortNone && t.order.col < len(t.cols) && ws[t.order.col] > 0 {
		sorted = t.order.col
	}
	// gap[i] is the separator before column i.
	gap := make([]string, len(t.cols))
	for i := range gap {
		gap[i] = " "
	}
	title := func(i int) string { return t.cols[i].title }
	if sorted >= 0 {
		c, w := t.cols[sorted], ws[sorted]
		arrow, tw := t.order.dir.arrow(), ansi.StringWidth(c.title)
		next := sorted + 1
		for next < len(t.cols) && ws[next] == 0 {
			next++
		}
		withArrow := func(text, sep string) string {
			if c.right {
				return arrow + sep + text
			}
			return text + sep + arrow
		}
		switch {
		case tw+2 <= w:
			title = func(i int) string {
				if i == sorted {
					return withArrow(c.title, " ")
				}
				return t.cols[i].title
			}
		case tw+1 <= w:
			title = func(i int) string {
				if i == sorted {
					return withArrow(c.title, "")
				}
				return t.cols[i].title
			}
		case c.right && sorted > 0 && tw <= w:
			gap[sorted] = arrow
		case !c.right && next < len(t.cols) && tw <= w:
			gap[next] = arrow
		default:
			cut := ansi.Truncate(c.title, max(0, w-1), "")
			title = func(i int) string {
				if i == sorted {
					return withArrow(cut, "")
				}
				return t.cols[i].title
			}
		}
	}
	// Laid out as joinCells lays out the rows.
	var b strings.Builder
	for i, c := range t.cols {
		if ws[i] == 0 {
			continue
		}
		if i > 0 {
			b.WriteString(gap[i])
		}
		b.WriteString(fit(title(i), ws[i], c.right))
	}
	return b.String()
}

func at(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

func fit(s string, w int, right bool) string {
	if right {
		return padLeft(s, w)
	}
	return pad(s, w)
}

func joinCells(cols []column, ws []int, text func(i int) string) string {
	var b strings.Builder
	for i := range cols {
		if ws[i] == 0 {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fit(text(i), ws[i], cols[i].right))
	}
	return b.String()
}
