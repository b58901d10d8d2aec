package ui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// listSpec is what a list screen tells the list base about its rows: how
// they look, how they are told apart, filtered and sorted, and what the
// list says when it has none.
type listSpec[R any, K comparable] struct {
	// noun names the rows: "loading instances…", "cannot read instances".
	noun string
	// key tells rows apart, so the cursor stays on its row across
	// reloads, filters and sorts; the zero K is no row.
	key func(R) K
	// cells are a row's columns as shown.
	cells func(R) []string
	// style colours one cell (it gets the padded text); nil draws plain
	// rows.
	style func(r R, col int, padded string) string
	// match reports whether a row has every word of the filter query;
	// nil when the screen filters where it reads (see refilter).
	match func(r R, query string) bool
	// refilter, when set, is called instead of match when the query
	// changes: the screen reads its rows again for the new query.
	refilter func() tea.Cmd
	// moved, when set, is called after the cursor moved, to read more
	// rows as it nears the end.
	moved func() tea.Cmd
	// compare orders rows by a column where the cells' text would not
	// (times, instance numbers); a nil or missing entry compares the
	// text, numbers in it as numbers.
	compare []func(a, b R) int
	// natural is the order the rows come in.
	natural naturalOrder
	// empty is what the list shows with no rows at all: how rows come,
	// wrapped to the width.
	empty func(w int) []string
	// noMatch is what it shows under the header when the filter leaves
	// nothing.
	noMatch string
	// blank, when set, may stand for the whole table while the list has
	// no rows (a search that has found nothing yet says how far it got).
	blank func(w int) (string, bool)
}

// listBase is what the list screens (instances, live events, deliveries,
// rejected requests) have in common, written once: the rows and the
// visible ones in their order, the cursor kept on its row, the / filter,
// the o sort menu and O, the loading, error and empty states, and column
// widths that stay where they are. A screen embeds it (gh-dash embeds a
// section model in each section) and supplies its columns and a
// listSpec; its own keys come after the base's.
type listBase[R any, K comparable] struct {
	ctx  *Context
	spec listSpec[R, K]
	list ListKeys
	// rows are in the order they came; visible indexes the ones the
	// filter leaves, in the sort order.
	rows    []R
	visible []int
	table   tableView
	filter  filterBox
	order   listOrder
	menu    sortMenu
	// selected is the row the cursor is on, found again after a change.
	selected K
	// built is the rows visible was computed from (see sync).
	built  rowsMark[K]
	loaded bool
	// err is the last load's failure: shown instead of the table while
	// there are no rows, under it otherwise.
	err  error
	w, h int
}

// rowsMark tells one set of rows from another cheaply: their count and
// the keys of the first and the last.
type rowsMark[K comparable] struct {
	n           int
	first, last K
}

func (b *listBase[R, K]) mark() rowsMark[K] {
	m := rowsMark[K]{n: len(b.rows)}
	if m.n > 0 {
		m.first, m.last = b.spec.key(b.rows[0]), b.spec.key(b.rows[m.n-1])
	}
	return m
}

// sync catches the visible rows up when the screen changed its rows
// without a rebuild (replaced them, appended some), before they are shown
// or used: visible never points past the rows.
func (b *listBase[R, K]) sync() {
	if b.built == b.mark() {
		return
	}
	b.rebuild()
	if !b.anchor() {
		b.table.cursor = clamp(b.table.cursor, 0, len(b.visible)-1)
	}
}

func newListBase[R any, K comparable](ctx *Context, cols []column, spec listSpec[R, K]) listBase[R, K] {
	return listBase[R, K]{ctx: ctx, spec: spec, list: ctx.List, filter: newFilterBox(), table: tableView{cols: cols}}
}

// SetSize gives the list the body's size.
func (b *listBase[R, K]) SetSize(w, h int) { b.w, b.h, b.table.width, b.table.height = w, h, w, h }

// Capturing reports whether keys go to the filter or the sort menu.
func (b *listBase[R, K]) Capturing() bool { return b.filter.Typing() || b.menu.active }

// Cancel closes the sort menu or clears an applied filter.
func (b *listBase[R, K]) Cancel() (bool, tea.Cmd) {
	if b.menu.active {
		b.menu.active = false
		return true, nil
	}
	if b.filter.Cancel() {
		return true, b.filtered()
	}
	return false, nil
}

// Sorted is the sort for the breadcrumb ("sorted by type ↑"), or "" in
// the natural order.
func (b *listBase[R, K]) Sorted() string {
	if b.order.dir == sortNone || b.order.col >= len(b.table.cols) {
		return ""
	}
	return "sorted by " + strings.ToLower(b.table.cols[b.order.col].title) + " " + b.order.dir.arrow()
}

// filtered follows a change of the filter's query.
func (b *listBase[R, K]) filtered() tea.Cmd {
	if b.spec.refilter != nil {
		return b.spec.refilter()
	}
	b.refresh()
	return nil
}

// refresh recomputes the visible rows after the rows or the filter
// changed, and puts the cursor back on its row (or as near as it was).
func (b *listBase[R, K]) refresh() {
	b.rebuild()
	if !b.anchor() {
		b.table.cursor = clamp(b.table.cursor, 0, len(b.visible)-1)
	}
	b.remember()
}

// rebuild recomputes the visible rows, their order and the column widths;
// it leaves the cursor to the caller.
func (b *listBase[R, K]) rebuild() {
	q := b.filter.Query()
	b.visible = b.visible[:0]
	for i, r := range b.rows {
		if b.spec.match == nil || b.spec.match(r, q) {
			b.visible = append(b.visible, i)
		}
	}
	b.sortVisible()
	b.built = b.mark()
	b.table.order = b.order
	// Measured over every row, not the visible ones: a filter then
	// never moves the columns.
	b.table.measure(len(b.rows), func(i int) []string { return b.spec.cells(b.rows[i]) })
}

// sortVisible orders the visible rows by the sort column. The sort is
// stable, in both directions: rows that compare equal keep the order they
// came in.
func (b *listBase[R, K]) sortVisible() {
	if b.order.dir == sortNone || b.order.col >= len(b.table.cols) {
		return
	}
	col := b.order.col
	var cmpf func(i, j int) int
	if col < len(b.spec.compare) && b.spec.compare[col] != nil {
		f := b.spec.compare[col]
		cmpf = func(i, j int) int { return f(b.rows[i], b.rows[j]) }
	} else {
		// The text of each row's cell, built once rather than on every
		// comparison.
		text := make([]string, len(b.rows))
		for _, i := range b.visible {
			text[i] = at(b.spec.cells(b.rows[i]), col)
		}
		cmpf = func(i, j int) int { return compareText(text[i], text[j]) }
	}
	desc := b.order.dir == sortDesc
	slices.SortStableFunc(b.visible, func(i, j int) int {
		if desc {
			return cmpf(j, i)
		}
		return cmpf(i, j)
	})
}

// sortBy sorts the list and keeps the cursor on its row.
func (b *listBase[R, K]) sortBy(o listOrder) {
	b.order = o
	b.refresh()
}

// anchor puts the cursor back on the selected row; false if it is not
// visible.
func (b *listBase[R, K]) anchor() bool {
	var none K
	if b.selected == none {
		return false
	}
	for p, i := range b.visible {
		if b.spec.key(b.rows[i]) == b.selected {
			b.table.cursor = p
			return true
		}
	}
	return false
}

// remember notes the row under the cursor.
func (b *listBase[R, K]) remember() {
	if r, ok := b.current(); ok {
		b.selected = b.spec.key(r)
	}
}

// current is the row under the cursor.
func (b *listBase[R, K]) current() (R, bool) {
	b.sync()
	if len(b.visible) == 0 {
		var none R
		return none, false
	}
	return b.rows[b.visible[clamp(b.table.cursor, 0, len(b.visible)-1)]], true
}

// moveTo moves the cursor to visible row c.
func (b *listBase[R, K]) moveTo(c int) tea.Cmd {
	b.sync()
	if len(b.visible) == 0 {
		return nil
	}
	b.table.cursor = clamp(c, 0, len(b.visible)-1)
	b.remember()
	if b.spec.moved != nil {
		return b.spec.moved()
	}
	return nil
}

// wheel moves the cursor three rows a notch.
func (b *listBase[R, K]) wheel(msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		return b.moveTo(b.table.cursor - 3)
	case tea.MouseButtonWheelDown:
		return b.moveTo(b.table.cursor + 3)
	}
	return nil
}

// listKey handles the keys every list has: the sort menu's while it is
// open, the filter's while it is typed, moving, /, o and O. It reports
// whether the key was one of them.
func (b *listBase[R, K]) listKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	b.sync()
	if b.menu.active {
		if p := b.menu.Update(msg, len(b.table.cols)); p.chosen {
			if p.col < 0 {
				b.sortBy(listOrder{})
			} else {
				b.sortBy(b.order.pick(p.col))
			}
		}
		return nil, true
	}
	if b.filter.Typing() {
		if b.filter.Update(msg) {
			return b.filtered(), true
		}
		return nil, true
	}
	if c, ok := b.list.move(msg, b.table.cursor, len(b.visible), b.table.rows()); ok {
		return b.moveTo(c), true
	}
	switch {
	case key.Matches(msg, b.list.Filter):
		b.filter.Start()
	case key.Matches(msg, sortKey):
		b.menu.open(b.order)
	case key.Matches(msg, reverseKey):
		b.sortBy(b.order.reverse(b.spec.natural))
	default:
		return nil, false
	}
	return nil, true
}

// modalHelp is the key hint while the menu is open or the filter typed
// (extra adds to the filter's), or nil.
func (b *listBase[R, K]) modalHelp(extra ...key.Binding) []key.Binding {
	switch {
	case b.menu.active:
		return []key.Binding{bind("enter", "enter", "sort"), bind("j", "↑↓", "choose"), bind("0", "0-9", "pick"), bind("esc", "esc", "close")}
	case b.filter.Typing():
		return append([]key.Binding{bind("enter", "enter", "apply"), bind("esc", "esc", "clear")}, extra...)
	}
	return nil
}

// sortHelp is the help column of the sort keys; the screen's help has
// the base's moving and filter keys (list.nav) too.
func (b *listBase[R, K]) sortHelp() []key.Binding {
	return []key.Binding{sortKey, reverseKey}
}

// listView draws the list: the lines above it (warnings), then the table
// or what stands for it (loading, the error, the empty tips), the filter
// line and a later load's error at the bottom, and the sort menu over it
// all.
func (b *listBase[R, K]) listView(title string, above []string) string {
	b.sync()
	st := b.ctx.Styles
	w, h := b.w, b.h
	var foot []string
	if fl := b.filter.View(st, w); fl != "" {
		foot = append(foot, fl)
	}
	failure := ""
	if b.err != nil {
		failure = "cannot read " + b.spec.noun + ": " + b.err.Error()
		if len(b.rows) > 0 {
			// Rows read before stay; the error wraps below them, at
			// most a third of the height.
			lines := wrapIndented(st.Error, failure+" (the rows shown were read before)", 1, w)
			foot = append(foot, lines[:min(len(lines), max(1, h/3))]...)
		}
	}
	th := max(1, h-len(above)-len(foot))
	var body string
	blank, isBlank := "", false
	if b.spec.blank != nil && len(b.rows) == 0 {
		blank, isBlank = b.spec.blank(w)
	}
	switch {
	case b.err != nil && len(b.rows) == 0:
		body = joinLines(wrapIndented(st.Error, failure, 1, w))
	case !b.loaded:
		body = st.Muted.Render(" loading " + b.spec.noun + "…")
	case isBlank:
		body = blank
	case len(b.rows) == 0 && !b.filter.Active() && b.spec.empty != nil:
		// Tips are wrapped, never cut: the key they name is the point.
		body = joinLines(b.spec.empty(w))
	default:
		b.table.width, b.table.height = w, th
		style := func(i, c int, p string) string {
			if b.spec.style == nil {
				return st.Row.Render(p)
			}
			return b.spec.style(b.rows[b.visible[i]], c, p)
		}
		body = b.table.render(st, len(b.visible), func(i int) []string { return b.spec.cells(b.rows[b.visible[i]]) }, style)
		if len(b.visible) == 0 {
			body += "\n\n" + joinLines(wrapIndented(st.Muted, b.spec.noMatch, 2, w))
		}
	}
	if len(foot) > 0 {
		body = fitLines(body, w, th) + "\n" + joinLines(foot)
	}
	if len(above) > 0 {
		body = joinLines(above) + "\n" + body
	}
	if b.menu.active {
		body = overlay(body, b.menu.View(st, title, b.table.cols, b.order, b.spec.natural, h), w, h)
	}
	return body
}
