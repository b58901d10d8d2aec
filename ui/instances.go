package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/eventdesk/eventdesk/model"
)

// instanceKeys are the instances screen's own keys, and the instance
// actions it shares with the detail.
type instanceKeys struct {
	ListKeys
	instanceActions
	Open, New key.Binding
}

func newInstanceKeys(l ListKeys) instanceKeys {
	return instanceKeys{
		ListKeys:        l,
		instanceActions: newInstanceActions(),
		Open:            bind("enter", "enter", "detail"),
		New:             bind("n", "n", "new"),
	}
}

// instRow is one line of the list with what the store does not keep on
// the instance itself.
type instRow struct {
	in      model.Instance
	last    time.Time
	count   int
	pollErr bool
}

type instancesLoadedMsg struct {
	addr
	rows []instRow
	err  error
}

// instancesScreen is home: every instance with its events state.
type instancesScreen struct {
	listBase[instRow, int64]
	id      int
	keys    instanceKeys
	confirm confirmDialog
	loading bool
	dirty   bool
}

func newInstancesScreen(ctx *Context) *instancesScreen {
	s := &instancesScreen{id: ctx.newID(), keys: newInstanceKeys(ctx.List)}
	cols := []column{
		{title: "ID", width: 4, right: true},
		{title: "NAME", width: 10, flex: 1},
		{title: "ELEMENT", width: 9},
		{title: "EVENTS", width: 7},
		{title: "STATE", width: 13},
		{title: "LAST EVENT", width: 10},
		{title: "COUNT", width: 6, right: true},
	}
	s.listBase = newListBase(ctx, cols, listSpec[instRow, int64]{
		noun:  "instances",
		key:   func(r instRow) int64 { return r.in.ID },
		cells: s.cells,
		style: s.style,
		match: func(r instRow, q string) bool {
			in := r.in
			return matchAll(q, strconv.FormatInt(in.ID, 10), in.Name, in.ElementKey, eventsMode(in), instanceState(in, r.pollErr), fmt.Sprint(in.Tags))
		},
		compare: []func(a, b instRow) int{
			5: func(a, b instRow) int { return a.last.Compare(b.last) },
		},
		natural: naturalOrder{col: 0, dir: sortAsc, text: "by id"},
		empty:   s.emptyView,
		noMatch: "nothing matches the filter — esc clears it",
	})
	return s
}

func (s *instancesScreen) ID() int          { return s.id }
func (s *instancesScreen) Title() string    { return "Instances" }
func (s *instancesScreen) Init() tea.Cmd    { return s.load() }
func (s *instancesScreen) Refresh() tea.Cmd { return s.load() }

func (s *instancesScreen) Capturing() bool { return s.listBase.Capturing() || s.confirm.active }

func (s *instancesScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	return s.listBase.Cancel()
}

func (s *instancesScreen) Status() string {
	if s.filter.Active() {
		return fmt.Sprintf("%d of %d", len(s.visible), len(s.rows))
	}
	return ""
}

// load reads instances and the engine's aggregates (each instance's event
// count, newest event and poll errors, which the engine keeps without
// paging events); one load at a time, a change meanwhile triggers one more.
func (s *instancesScreen) load() tea.Cmd {
	if s.loading {
		s.dirty = true
		return nil
	}
	s.loading = true
	st, sid := s.ctx.Backend, s.id
	return func() tea.Msg {
		list, err := st.Instances(opCtx())
		if err != nil {
			return instancesLoadedMsg{addr: addr{sid}, err: err}
		}
		agg, err := st.Stats(opCtx())
		if err != nil {
			return instancesLoadedMsg{addr: addr{sid}, err: err}
		}
		rows := make([]instRow, len(list))
		for i, in := range list {
			a := agg.PerInstance[in.ID]
			rows[i] = instRow{in: in, count: a.Events, last: a.LastEvent, pollErr: a.PollErrors}
		}
		return instancesLoadedMsg{addr: addr{sid}, rows: rows}
	}
}

func (s *instancesScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case instancesLoadedMsg:
		s.loading = false
		s.err = msg.err
		if msg.err == nil {
			s.rows, s.loaded = msg.rows, true
			names := map[int64]string{}
			for _, r := range s.rows {
				names[r.in.ID] = r.in.Name
			}
			s.refresh()
			names2 := names
			if s.dirty {
				s.dirty = false
				return tea.Batch(func() tea.Msg { return instancesChangedMsg{names2} }, s.load())
			}
			return func() tea.Msg { return instancesChangedMsg{names2} }
		}
		return nil
	case webhookDoneMsg:
		return tea.Batch(msg.toast(), s.load())
	case selectInstanceMsg:
		// Applied when the reload it triggers arrives.
		s.selected = msg.id
		return s.load()
	case tea.MouseMsg:
		return s.wheel(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

func (s *instancesScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.confirm.active {
		return s.confirm.Update(msg)
	}
	if cmd, ok := s.listKey(msg); ok {
		return cmd
	}
	k := s.keys
	if key.Matches(msg, k.New) {
		return s.ctx.push(newFormScreen(s.ctx, nil))
	}
	r, ok := s.current()
	in := r.in
	if !ok {
		if key.Matches(msg, append(k.all(), k.Open)...) {
			return toast(toastInfo, "no instance selected — press n to create one")
		}
		return nil
	}
	if key.Matches(msg, k.Open) {
		return s.ctx.push(newDetailScreen(s.ctx, in.ID))
	}
	cmd, _ := runInstanceAction(s.ctx, s.site(), k.instanceActions, in, msg)
	return cmd
}

// site lets the shared instance actions act on this screen.
func (s *instancesScreen) site() instanceSite {
	return instanceSite{sid: s.id, confirm: &s.confirm,
		reveal: func() tea.Cmd {
			r, _ := s.current()
			d := newDetailScreen(s.ctx, r.in.ID)
			d.reveal = true
			return s.ctx.push(d)
		},
	}
}

// cells are an instance's columns.
func (s *instancesScreen) cells(r instRow) []string {
	in := r.in
	last := "never"
	if !r.last.IsZero() {
		last = s.ctx.ago(r.last)
	}
	return []string{strconv.FormatInt(in.ID, 10), in.Name, in.ElementKey, eventsMode(in), instanceState(in, r.pollErr), last, strconv.Itoa(r.count)}
}

func (s *instancesScreen) style(r instRow, c int, p string) string {
	st := s.ctx.Styles
	if c == 4 {
		return st.stateStyle(instanceState(r.in, r.pollErr)).Render(p)
	}
	if c == 3 && p != "" && p[0] == 'o' {
		return st.Muted.Render(p)
	}
	return st.Row.Render(p)
}

func (s *instancesScreen) View() string {
	body := s.listView("instances", nil)
	if s.confirm.active {
		body = s.confirm.Over(s.ctx.Styles, body, s.w, s.h)
	}
	return body
}

// emptyView is home with no instances: the ways to create one.
func (s *instancesScreen) emptyView(w int) []string {
	st := s.ctx.Styles
	lines := []string{
		"",
		st.Title.Render("  No instances yet."),
		"",
	}
	// Tips wrap at the width, never cut: each names a key or a command.
	lines = append(lines, wrapIndented(lipgloss.NewStyle(), "An instance connects eventdesk to one Pipedrive or Close account.", 2, w)...)
	lines = append(lines,
		"  "+st.Focused.Render("n")+"       create one with the form",
		"  "+st.Focused.Render("n")+" then "+st.Focused.Render("ctrl+o")+"  import a seed's instance.json")
	lines = append(lines, wrapIndented(lipgloss.NewStyle(), "API     POST /elements/api-v2/instances (see the README's quick start)", 2, w)...)
	lines = append(lines, "")
	lines = append(lines, wrapIndented(lipgloss.NewStyle(), "Then copy its webhook URL with y, or enable polling and watch :events.", 2, w)...)
	return lines
}

func (s *instancesScreen) ShortHelp() []key.Binding {
	if m := s.modalHelp(); m != nil {
		return m
	}
	if s.confirm.active {
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	}
	k := s.keys
	return []key.Binding{k.Open, k.New, k.Edit, k.Delete, k.Poller, k.PollNow, k.Copy, k.Filter}
}

func (s *instancesScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return append(append([][]key.Binding{k.nav(), {k.Open, k.New}}, k.help()...), s.sortHelp())
}
