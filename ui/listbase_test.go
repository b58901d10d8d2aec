package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

func TestCompareText(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"obj-9", "obj-10", -1},
		{"404", "99", 1},
		{"007", "7", 0},
		{"Leads", "contacts", 1},
		{"contacts", "Contacts", 0},
		{"", "a", -1},
		{"pending", "pending", 0},
		{"#2 Close", "#10 Pipedrive", -1},
		{"a1b2", "a1b10", -1},
	} {
		if got := compareText(c.a, c.b); got != c.want {
			t.Errorf("compareText(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareText(c.b, c.a); got != -c.want {
			t.Errorf("compareText(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestListOrderPickAndReverse(t *testing.T) {
	nat := naturalOrder{col: 0, dir: sortDesc}
	for _, c := range []struct {
		name string
		from listOrder
		do   func(listOrder) listOrder
		want listOrder
	}{
		{"pick from natural", listOrder{}, func(o listOrder) listOrder { return o.pick(3) }, listOrder{3, sortAsc}},
		{"pick the sorted column again", listOrder{3, sortAsc}, func(o listOrder) listOrder { return o.pick(3) }, listOrder{3, sortDesc}},
		{"pick another column", listOrder{3, sortDesc}, func(o listOrder) listOrder { return o.pick(1) }, listOrder{1, sortAsc}},
		{"reverse natural", listOrder{}, func(o listOrder) listOrder { return o.reverse(nat) }, listOrder{0, sortAsc}},
		{"reverse a sort", listOrder{2, sortAsc}, func(o listOrder) listOrder { return o.reverse(nat) }, listOrder{2, sortDesc}},
	} {
		if got := c.do(c.from); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// fruit is a row of the test list.
type fruit struct {
	id    int
	name  string
	count int
}

// newFruitList is a list base over fruit rows, the way a screen sets
// one up.
func newFruitList(rows []fruit) *listBase[fruit, int] {
	ctx := newContext(Deps{}, Options{Now: func() time.Time { return testNow }, Location: time.UTC, Static: true})
	b := newListBase(ctx, []column{
		{title: "ID", width: 3, right: true},
		{title: "NAME", width: 6, flex: 1},
		{title: "COUNT", width: 5, right: true},
	}, listSpec[fruit, int]{
		noun:  "fruit",
		key:   func(f fruit) int { return f.id },
		cells: func(f fruit) []string { return []string{strconv.Itoa(f.id), f.name, strconv.Itoa(f.count)} },
		match: func(f fruit, q string) bool { return matchAll(q, f.name) },
		compare: []func(a, b fruit) int{
			2: func(a, b fruit) int { return a.count - b.count },
		},
		natural: naturalOrder{col: 0, dir: sortAsc, text: "by id"},
		empty: func(w int) []string {
			return wrapIndented(ctx.Styles.Muted, "No fruit yet: press n to pick some, it takes a moment to grow.", 2, w)
		},
		noMatch: "no fruit matches — esc clears the filter",
	})
	b.SetSize(40, 10)
	if rows != nil {
		b.rows, b.loaded = rows, true
		b.refresh()
	}
	return &b
}

func fruitRows() []fruit {
	return []fruit{{1, "apple", 3}, {2, "Banana", 1}, {3, "cherry", 3}, {4, "apple pie", 1}, {5, "date", 3}}
}

// ids are the visible rows' ids, in order.
func (b *listBase[R, K]) ids() []K {
	var out []K
	for _, i := range b.visible {
		out = append(out, b.spec.key(b.rows[i]))
	}
	return out
}

func press(b *listBase[fruit, int], keys ...string) {
	for _, k := range keys {
		b.listKey(keyOf(k))
	}
}

func TestListBaseSortIsStableBothWays(t *testing.T) {
	b := newFruitList(fruitRows())
	if got := b.ids(); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("natural order %v", got)
	}
	// o 3 sorts by count, ascending; equal counts keep the natural order,
	// in both directions.
	press(b, "o", "3")
	if got := b.ids(); !slices.Equal(got, []int{2, 4, 1, 3, 5}) {
		t.Fatalf("by count ↑ %v", got)
	}
	if b.Sorted() != "sorted by count ↑" {
		t.Fatalf("crumb %q", b.Sorted())
	}
	press(b, "O")
	if got := b.ids(); !slices.Equal(got, []int{1, 3, 5, 2, 4}) {
		t.Fatalf("by count ↓ %v", got)
	}
	// Text sorts ignore case.
	press(b, "o", "2")
	if got := b.ids(); !slices.Equal(got, []int{1, 4, 2, 3, 5}) {
		t.Fatalf("by name ↑ %v", got)
	}
	// o 0 is the natural order again; O there turns it round.
	press(b, "o", "0")
	if got := b.ids(); !slices.Equal(got, []int{1, 2, 3, 4, 5}) || b.Sorted() != "" {
		t.Fatalf("natural again %v (crumb %q)", got, b.Sorted())
	}
	press(b, "O")
	if got := b.ids(); !slices.Equal(got, []int{5, 4, 3, 2, 1}) || b.Sorted() != "sorted by id ↓" {
		t.Fatalf("O from natural %v (crumb %q)", got, b.Sorted())
	}
}

func TestListBaseCursorStaysOnItsRow(t *testing.T) {
	b := newFruitList(fruitRows())
	press(b, "j", "j") // cherry
	press(b, "o", "3", "O")
	if r, _ := b.current(); r.name != "cherry" {
		t.Fatalf("after sorting the cursor is on %q", r.name)
	}
	press(b, "/")
	for _, r := range "err" {
		b.listKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	press(b, "enter")
	if r, _ := b.current(); r.name != "cherry" || len(b.visible) != 1 {
		t.Fatalf("after filtering: %q of %d rows", r.name, len(b.visible))
	}
	// A reload with the row elsewhere finds it again.
	if done, _ := b.Cancel(); !done {
		t.Fatal("esc should clear the filter")
	}
	b.rows = append([]fruit{{9, "fig", 7}}, b.rows...)
	b.refresh()
	if r, _ := b.current(); r.name != "cherry" {
		t.Fatalf("after a reload the cursor is on %q", r.name)
	}
}

func TestListBaseFilterSortAndWidths(t *testing.T) {
	b := newFruitList(fruitRows())
	header := func() string { return splitLines(b.listView("fruit", nil))[0] }
	plain := header()
	press(b, "o", "2")
	// The arrow never moves a column: every title starts in the cell it
	// did.
	sorted := header()
	cell := func(line, title string) int { return lipglossWidth(line[:strings.Index(line, title)]) }
	for _, title := range []string{"ID", "NAME", "COUNT"} {
		if cell(sorted, title) != cell(plain, title) {
			t.Errorf("%s moved: %q → %q", title, plain, sorted)
		}
	}
	if !strings.Contains(sorted, "NAME ↑") {
		t.Fatalf("no arrow on the sorted column: %q", sorted)
	}
	// A filter narrows the sorted rows; the widths stay (measured over
	// every row, not the visible ones).
	press(b, "/")
	b.listKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("apple")})
	press(b, "enter")
	if got := b.ids(); !slices.Equal(got, []int{1, 4}) {
		t.Fatalf("apple, sorted by name: %v", got)
	}
	if got := header(); got != sorted {
		t.Fatalf("the header changed with the filter: %q → %q", sorted, got)
	}
	v := b.listView("fruit", nil)
	if !strings.Contains(v, "filter: apple") || !strings.Contains(v, "apple pie") || strings.Contains(v, "cherry") {
		t.Fatalf("filtered view:\n%s", v)
	}
}

func TestListBaseStates(t *testing.T) {
	// Loading: nothing read yet.
	b := newFruitList(nil)
	if v := b.listView("fruit", nil); !strings.Contains(v, "loading fruit…") {
		t.Fatalf("loading:\n%s", v)
	}
	// Empty: the tips, wrapped, never cut.
	b.loaded = true
	b.refresh()
	v := b.listView("fruit", nil)
	if !strings.Contains(v, "No fruit yet") || !strings.Contains(v, "grow.") {
		t.Fatalf("empty:\n%s", v)
	}
	for _, l := range splitLines(v) {
		if lipglossWidth(l) > 40 {
			t.Fatalf("line cut or too wide: %q", l)
		}
	}
	// Nothing matches: the header stays, with a way out.
	b.rows = fruitRows()
	b.refresh()
	b.filter.Apply("kiwi")
	b.refresh()
	v = b.listView("fruit", nil)
	if !strings.Contains(v, "NAME") || !strings.Contains(v, "no fruit matches — esc clears") {
		t.Fatalf("no match:\n%s", v)
	}
	b.filter.Clear()
	b.refresh()
	// A failed load with no rows: the error, wrapped in full.
	e := newFruitList(nil)
	e.err = errors.New("the fruit store is closed for the winter and will open again in spring")
	v = e.listView("fruit", nil)
	if !strings.Contains(v, "cannot read fruit") || !strings.Contains(v, "spring") {
		t.Fatalf("error:\n%s", v)
	}
	// A failed reload keeps the rows read before and says why below them.
	b.err = errors.New("store closed")
	v = b.listView("fruit", nil)
	lines := splitLines(v)
	if !strings.Contains(v, "cherry") || !strings.Contains(strings.Join(lines[len(lines)-2:], " "), "cannot read fruit: store closed") || len(lines) != 10 {
		t.Fatalf("error under the rows (%d lines):\n%s", len(lines), v)
	}
}

func TestListBaseSortMenu(t *testing.T) {
	b := newFruitList(fruitRows())
	press(b, "o")
	if !b.Capturing() {
		t.Fatal("the open menu should have the keys")
	}
	v := b.listView("fruit", nil)
	for _, want := range []string{"Sort fruit by", "0 default order (by id) ✓", "1 id", "2 name", "3 count", "esc close"} {
		if !strings.Contains(v, want) {
			t.Fatalf("menu lacks %q:\n%s", want, v)
		}
	}
	// j moves down the menu, not the list; enter picks.
	press(b, "j", "j", "enter")
	if b.menu.active || b.order != (listOrder{1, sortAsc}) || b.table.cursor != 0 {
		t.Fatalf("after j j enter: menu %v order %+v cursor %d", b.menu.active, b.order, b.table.cursor)
	}
	// The menu opens on the current sort, marked with its arrow; enter
	// on it again reverses.
	press(b, "o")
	if v := b.listView("fruit", nil); !strings.Contains(v, "▸ 2 name ↑") {
		t.Fatalf("menu on the sorted column:\n%s", v)
	}
	press(b, "enter")
	if b.order != (listOrder{1, sortDesc}) {
		t.Fatalf("enter on the sorted column: %+v", b.order)
	}
	// esc closes without changing anything.
	press(b, "o", "k", "esc")
	if b.menu.active || b.order != (listOrder{1, sortDesc}) {
		t.Fatalf("esc: menu %v order %+v", b.menu.active, b.order)
	}
}

// Every list screen sorts with o and O, says so in the breadcrumb and the
// header, and lists both keys in its help.
func TestListScreensSort(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	for _, c := range []struct {
		name, open string
		keys       []string
		crumb      string
		header     string
	}{
		{"instances", "", []string{"O"}, "sorted by id ↓", "↓ ID"},
		{"events", "events", []string{"o", "6"}, "sorted by object id ↑", "OBJECT ID ↑"},
		// A title that fills its column gets the arrow in the space next
		// to it: the columns never move.
		{"deliveries", "deliveries", []string{"o", "5", "O"}, "sorted by tries ↓", "STATE    ↓TRIES LAST"},
		{"rejected", "rejected", []string{"o", "2"}, "sorted by code ↑", "CODE↑PATH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, st, 120, 30)
			if c.open != "" {
				h.key(":")
				h.typeText(c.open)
				h.key("enter")
			}
			h.key(c.keys...)
			lines := splitLines(h.view())
			if !strings.Contains(lines[1], "› "+c.crumb) {
				t.Errorf("breadcrumb %q lacks %q", lines[1], c.crumb)
			}
			if !strings.Contains(lines[2], c.header) {
				t.Errorf("header %q lacks %q", lines[2], c.header)
			}
			h.key("?")
			h.contains("o sort by…", "O reverse sort")
		})
	}
}

// Sorted, the live feed stays live: new events take their place in the
// sort order, and the cursor stays on its event.
func TestFeedSortedFollows(t *testing.T) {
	st := newStore(t)
	_, cl := seed(t, st)
	h, s := openFeed(t, st)
	h.key("j", "o", "4") // by object type: contacts, then leads
	sel := s.selected
	addEvents(t, st, cl, 2, "accounts")
	h.send(refreshDueMsg{})
	if len(s.rows) != 14 {
		t.Fatalf("%d rows after 2 new events", len(s.rows))
	}
	var types []string
	for _, i := range s.visible {
		types = append(types, s.rows[i].ObjectType)
	}
	if !slices.IsSortedFunc(types, strings.Compare) || types[0] != "accounts" {
		t.Fatalf("not in sort order: %v", types)
	}
	if r, _ := s.current(); r.Seq() != sel {
		t.Fatalf("the cursor left its event: on %d, want %d", r.Seq(), sel)
	}
	// The window behind the sort is still newest first, so paging works.
	if !slices.IsSortedFunc(s.rows, func(a, b model.Event) int { return int(b.Seq()) - int(a.Seq()) }) {
		t.Fatal("the window lost its store order")
	}
	// o 0 goes back to newest first.
	h.key("o", "0")
	if s.rows[s.visible[0]].Seq() != 14 || strings.Contains(h.view(), "sorted by") {
		t.Fatalf("default order again:\n%s", h.view())
	}
}

// While the sort menu is open, q, : and ? are menu keys or nothing: they
// neither quit nor open the palette.
func TestSortMenuHasTheKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("o", ":")
	if h.app.pal.active || h.quit {
		t.Fatal(": opened the palette over the sort menu")
	}
	h.key("q")
	if h.quit {
		t.Fatal("q quit from the sort menu")
	}
	if s := h.top().(*instancesScreen); s.menu.active {
		t.Fatal("q should close the menu")
	}
	h.key("o", "esc")
	if len(h.app.stack) != 1 || h.top().(*instancesScreen).menu.active {
		t.Fatal("esc should close the menu and stay")
	}
}

// TestGoldenSort renders the sort menu and a sorted live feed at each
// size.
func TestGoldenSort(t *testing.T) {
	for _, sc := range []struct {
		name string
		keys []string
	}{
		{"sort_menu", []string{"o"}},
		{"events_sorted", []string{"j", "o", "4"}},
	} {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				st := newStore(t)
				seed(t, st)
				h := newHarness(t, st, sz.w, sz.h)
				h.key(":")
				h.typeText("events")
				h.key("enter")
				h.key(sc.keys...)
				got := h.view()
				checkSize(t, got, sz.w, sz.h)
				checkNothingVitalCut(t, got, sz.w)
				golden(t, name, got)
			})
		}
	}
}

// On a short terminal the menu drops its spacing so every choice shows,
// its frame whole.
func TestSortMenuFitsAShortBody(t *testing.T) {
	b := newFruitList(fruitRows())
	b.SetSize(40, 8)
	press(b, "o")
	v := b.listView("fruit", nil)
	for _, want := range []string{"Sort fruit by", "0 default order", "3 count", "╰"} {
		if !strings.Contains(v, want) {
			t.Fatalf("short menu lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "esc close") {
		t.Fatalf("the key line should give way:\n%s", v)
	}
}

// The sort arrow never moves a column: it goes in the title's column, or
// in the space next to a title that fills it, or, last, over the title's
// last letter.
func TestHeaderArrow(t *testing.T) {
	cols := []column{{title: "ID", width: 4, right: true}, {title: "CODE", width: 4}, {title: "TRIES", width: 5, right: true}, {title: "LAST", width: 4}}
	ws := []int{4, 4, 5, 4}
	for _, c := range []struct {
		order listOrder
		want  string
	}{
		{listOrder{}, "  ID CODE TRIES LAST"},
		{listOrder{0, sortAsc}, "↑ ID CODE TRIES LAST"},
		{listOrder{1, sortDesc}, "  ID CODE↓TRIES LAST"},
		{listOrder{2, sortAsc}, "  ID CODE↑TRIES LAST"},
		{listOrder{3, sortAsc}, "  ID CODE TRIES LAS↑"},
	} {
		tv := tableView{cols: cols, order: c.order}
		got := tv.header(ws)
		if got != c.want {
			t.Errorf("%+v: %q, want %q", c.order, got, c.want)
		}
		if lipglossWidth(got) != lipglossWidth(c.want) {
			t.Errorf("%+v: %d cells", c.order, lipglossWidth(got))
		}
	}
}

// A screen that changes its rows without a rebuild (a search appending
// what it found) is caught up before the rows are shown or used.
func TestListBaseCatchesUpWithChangedRows(t *testing.T) {
	b := newFruitList(fruitRows())
	press(b, "G")
	b.rows = b.rows[:2]
	if r, ok := b.current(); !ok || r.id != 2 {
		t.Fatalf("after the rows shrank: %+v %v", r, ok)
	}
	b.rows = append(b.rows, fruit{7, "grape", 2})
	if v := b.listView("fruit", nil); !strings.Contains(v, "grape") {
		t.Fatalf("appended row not shown:\n%s", v)
	}
	b.rows = nil
	if _, ok := b.current(); ok {
		t.Fatal("a row under the cursor of an empty list")
	}
}
