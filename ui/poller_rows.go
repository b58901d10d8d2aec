package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

type pollerRowsKeys struct {
	ListKeys
	Edit, Add, Remove, Reset, Raw, Save, PollNow, Done key.Binding
}

func newPollerRowsKeys(l ListKeys) pollerRowsKeys {
	return pollerRowsKeys{
		ListKeys: l,
		Edit:     bind("enter e", "enter", "edit resource"),
		Add:      bind("a", "a", "add"),
		Remove:   bind("x delete", "x", "remove"),
		Reset:    bind("R", "R", "reset to defaults"),
		Raw:      bind("t", "t", "raw JSON"),
		Save:     bind("ctrl+s", "ctrl+s", "save"),
		PollNow:  bind("P", "P", "poll now"),
		Done:     bind("esc", "esc", "done"),
	}
}

// pollerRows is the poller editor's list of resources, with the preview
// of each one's next request under it.
type pollerRows struct {
	ctx     *Context
	doc     *pollerDoc
	host    pollerHost
	preview pollerPreview
	keys    pollerRowsKeys
	filter  filterBox
	table   tableView
}

func newPollerRows(ctx *Context, doc *pollerDoc, host pollerHost, pv pollerPreview) pollerRows {
	m := pollerRows{ctx: ctx, doc: doc, host: host, preview: pv, keys: newPollerRowsKeys(ctx.List), filter: newFilterBox()}
	m.table.cols = []column{
		{title: "RESOURCE", width: 13},
		{title: "URL", width: 20, flex: 1},
		{title: "ID FIELD", width: 8},
		{title: "UPDATED FIELD", width: 13},
		{title: "CREATED FIELD", width: 13},
	}
	return m
}

// visible are the indexes of the rows the filter lets through, in order;
// the table's cursor indexes this list.
func (m *pollerRows) visible() []int {
	q := m.filter.Query()
	out := make([]int, 0, len(m.doc.rows))
	for i, r := range m.doc.rows {
		if matchAll(q, r.name, r.r.URL, r.r.IDField, r.r.Dates.UpdatedDateField, r.r.Dates.CreatedDateField) {
			out = append(out, i)
		}
	}
	return out
}

// current is the index in rows of the row under the cursor.
func (m *pollerRows) current() (int, bool) {
	vis := m.visible()
	if len(vis) == 0 {
		return 0, false
	}
	return vis[clamp(m.table.cursor, 0, len(vis)-1)], true
}

// show comes back to the rows, which may have changed meanwhile: the
// cursor goes to the named row, else stays in range.
func (m *pollerRows) show(name string) {
	if name != "" {
		m.selectRow(name)
	}
	m.table.cursor = clamp(m.table.cursor, 0, len(m.visible())-1)
}

// selectRow puts the cursor on the named row, clearing a filter that
// would hide it (a resource just renamed, say).
func (m *pollerRows) selectRow(name string) {
	for range 2 {
		for vi, i := range m.visible() {
			if m.doc.rows[i].name == name {
				m.table.cursor = vi
				return
			}
		}
		m.filter = newFilterBox()
	}
}

// cancel clears an applied filter and reports whether there was one.
func (m *pollerRows) cancel() bool {
	if m.filter.Cancel() {
		m.table.cursor = 0
		return true
	}
	return false
}

func (m *pollerRows) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			m.table.cursor--
		case tea.MouseButtonWheelDown:
			m.table.cursor++
		}
		m.table.cursor = clamp(m.table.cursor, 0, len(m.visible())-1)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *pollerRows) key(msg tea.KeyMsg) tea.Cmd {
	if m.filter.Typing() {
		if m.filter.Update(msg) {
			m.table.cursor = 0
		}
		return nil
	}
	k, doc := m.keys, m.doc
	if c, ok := k.move(msg, m.table.cursor, len(m.visible()), m.table.rows()); ok {
		m.table.cursor = c
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		m.filter.Start()
	case key.Matches(msg, k.Save):
		return m.host.save()
	case key.Matches(msg, k.Edit):
		if i, ok := m.current(); ok {
			m.host.editResource(i)
		}
	case key.Matches(msg, k.Add):
		m.host.editResource(-1)
	case key.Matches(msg, k.Remove):
		if i, ok := m.current(); ok {
			name := doc.rows[i].name
			doc.rows = append(doc.rows[:i], doc.rows[i+1:]...)
			m.table.cursor = clamp(m.table.cursor, 0, len(m.visible())-1)
			doc.revalidate()
			return toast(toastInfo, "removed "+name+" — ctrl+s saves, esc discards")
		}
	case key.Matches(msg, k.Reset):
		el, _ := doc.in.Element()
		m.host.ask(fmt.Sprintf("Replace the resources with %s's defaults (%s)?", el.Name, defaultNames(el)), func() tea.Cmd {
			pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
			doc.rows = rowsFrom(pc)
			m.table.cursor = 0
			doc.revalidate()
			return toast(toastInfo, "reset to the defaults — ctrl+s saves")
		})
	case key.Matches(msg, k.Raw):
		m.host.editRaw()
	case key.Matches(msg, k.PollNow):
		if m.host.dirty() {
			return toast(toastError, "save first (ctrl+s): a poll uses the stored configuration")
		}
		cmd, text := pollNow(m.ctx, doc.in)
		if text == "" {
			return cmd
		}
		return tea.Batch(toast(toastInfo, text), cmd)
	}
	return nil
}

func defaultNames(el model.Element) string {
	pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
	return strings.Join(pc.Resources(), ", ")
}

// header is the instance and how it polls.
func (m *pollerRows) header(w int) string {
	st, in := m.ctx.Styles, m.doc.in
	mode := "polling every " + strconv.Itoa(int(in.RefreshInterval().Minutes())) + " min"
	if !in.Polling() {
		mode = "not polling now (events " + eventsMode(in) + ")"
	}
	return " " + st.Title.Render(truncate(fmt.Sprintf("#%d %s", in.ID, in.Name), w/2)) + st.Muted.Render(truncate(fmt.Sprintf("  %d resource(s) · %s", len(m.doc.rows), mode), w/2))
}

func (m *pollerRows) View(w, h int) string {
	st, doc := m.ctx.Styles, m.doc
	lines := []string{m.header(w)}
	vis := m.visible()
	tableH := min(len(vis)+1, max(2, h/3))
	m.table.width, m.table.height = w, tableH
	switch {
	case len(doc.rows) == 0:
		lines = append(lines, "", st.Muted.Render("  no resources — a adds one, R resets to the element's defaults"))
	case len(vis) == 0:
		lines = append(lines, "", st.Muted.Render("  no resource matches the filter — esc clears it"))
	default:
		lines = append(lines, m.table.render(st, len(vis), func(i int) []string {
			r := doc.rows[vis[i]]
			name := r.name
			if len(doc.rowProblems(r.name)) > 0 {
				name = "✗ " + name
			}
			return []string{name, r.r.URL, r.r.IDField, r.r.Dates.UpdatedDateField, r.r.Dates.CreatedDateField}
		}, func(i, c int, p string) string {
			if c == 0 && strings.HasPrefix(p, "✗") {
				return st.Error.Render(p)
			}
			return st.Row.Render(p)
		}))
	}
	if fl := m.filter.View(st, w); fl != "" {
		lines = append(lines, fl)
	}
	if cur, ok := m.current(); ok {
		sel := doc.rows[cur]
		for _, p := range doc.rowProblems(sel.name) {
			lines = append(lines, "  "+st.Error.Render(truncate("✗ "+p, w-3)))
		}
		// A preview computed for this moment, not a schedule: the poller's
		// own timer decides when the requests are really made.
		lines = append(lines, "", " "+st.Section.Render("Next requests")+st.Muted.Render("  if polled now ("+m.ctx.clock(m.ctx.Now())+")"))
		lines = append(lines, m.preview.View(sel, w, true)...)
		for _, i := range vis {
			if r := doc.rows[i]; r.name != sel.name {
				lines = append(lines, m.preview.View(r, w, false)...)
			}
		}
	}
	return fitLines(joinLines(lines), w, h)
}

func (m *pollerRows) ShortHelp() []key.Binding {
	k := m.keys
	return []key.Binding{k.Edit, k.Add, k.Remove, k.Reset, k.Raw, k.Save, k.PollNow}
}

func (m *pollerRows) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Edit, k.Add, k.Remove, k.Reset}, {k.Raw, k.Save, k.PollNow, k.Done}}
}
