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
	ctx      *Context
	id       int
	keys     instanceKeys
	rows     []instRow
	visible  []int // indexes into rows after the filter
	table    tableView
	filter   filterBox
	confirm  confirmDialog
	selected int64 // the cursor follows this instance across reloads
	loaded   bool
	loading  bool
	dirty    bool
	err      error
}

func newInstancesScreen(ctx *Context) *instancesScreen {
	s := &instancesScreen{ctx: ctx, id: ctx.newID(), keys: newInstanceKeys(ctx.List), filter: newFilterBox()}
	s.table.cols = []column{
		{title: "ID", width: 4, right: true},
		{title: "NAME", width: 10, flex: 1},
		{title: "ELEMENT", width: 9},
		{title: "EVENTS", width: 7},
		{title: "STATE", width: 13},
		{title: "LAST EVENT", width: 10},
		{title: "COUNT", width: 6, right: true},
	}
	return s
}

func (s *instancesScreen) ID() int          { return s.id }
func (s *instancesScreen) Title() string    { return "Instances" }
func (s *instancesScreen) Init() tea.Cmd    { return s.load() }
func (s *instancesScreen) Refresh() tea.Cmd { return s.load() }

func (s *instancesScreen) SetSize(w, h int) {
	s.table.width, s.table.height = w, h
}

func (s *instancesScreen) Capturing() bool { return s.filter.Typing() || s.confirm.active }

func (s *instancesScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	if s.filter.Cancel() {
		s.applyFilter()
		return true, nil
	}
	return false, nil
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
			s.applyFilter()
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
		return s.mouse(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

func (s *instancesScreen) mouse(msg tea.MouseMsg) tea.Cmd {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		s.table.cursor = max(0, s.table.cursor-3)
	case tea.MouseButtonWheelDown:
		s.table.cursor = min(len(s.visible)-1, s.table.cursor+3)
	}
	s.remember()
	return nil
}

func (s *instancesScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.confirm.active {
		return s.confirm.Update(msg)
	}
	if s.filter.Typing() {
		if s.filter.Update(msg) {
			s.applyFilter()
		}
		return nil
	}
	k := s.keys
	if c, ok := k.move(msg, s.table.cursor, len(s.visible), s.table.rows()); ok {
		s.table.cursor = c
		s.remember()
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		s.filter.Start()
		return nil
	case key.Matches(msg, k.New):
		return s.ctx.push(newFormScreen(s.ctx, nil))
	}
	in, ok := s.current()
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
			in, _ := s.current()
			d := newDetailScreen(s.ctx, in.ID)
			d.reveal = true
			return s.ctx.push(d)
		},
	}
}

func (s *instancesScreen) current() (model.Instance, bool) {
	if len(s.visible) == 0 {
		return model.Instance{}, false
	}
	return s.rows[s.visible[clamp(s.table.cursor, 0, len(s.visible)-1)]].in, true
}

func (s *instancesScreen) remember() {
	if in, ok := s.current(); ok {
		s.selected = in.ID
	}
}

// applyFilter recomputes the visible rows and puts the cursor back on the
// selected instance.
func (s *instancesScreen) applyFilter() {
	q := s.filter.Query()
	s.visible = s.visible[:0]
	cursor := -1
	for i, r := range s.rows {
		in := r.in
		if !matchAll(q, strconv.FormatInt(in.ID, 10), in.Name, in.ElementKey, eventsMode(in), instanceState(in, r.pollErr), fmt.Sprint(in.Tags)) {
			continue
		}
		if in.ID == s.selected {
			cursor = len(s.visible)
		}
		s.visible = append(s.visible, i)
	}
	if cursor >= 0 {
		s.table.cursor = cursor
	} else {
		s.table.cursor = clamp(s.table.cursor, 0, len(s.visible)-1)
	}
	s.remember()
}

func (s *instancesScreen) View() string {
	st := s.ctx.Styles
	w, h := s.table.width, s.table.height
	if s.err != nil && !s.loaded {
		return st.Error.Render("cannot read instances: " + s.err.Error())
	}
	if !s.loaded {
		return st.Muted.Render(" loading instances…")
	}
	if len(s.rows) == 0 {
		return s.emptyView()
	}
	fl := s.filter.View(st, w)
	th := h
	if fl != "" {
		th--
	}
	s.table.height = th
	body := s.table.render(st, len(s.visible), func(i int) []string {
		r := s.rows[s.visible[i]]
		in := r.in
		count := strconv.Itoa(r.count)
		last := "never"
		if !r.last.IsZero() {
			last = s.ctx.ago(r.last)
		}
		return []string{strconv.FormatInt(in.ID, 10), in.Name, in.ElementKey, eventsMode(in), instanceState(in, r.pollErr), last, count}
	}, func(i, c int, p string) string {
		if c == 4 {
			r := s.rows[s.visible[i]]
			return st.stateStyle(instanceState(r.in, r.pollErr)).Render(p)
		}
		if c == 3 && p != "" && p[0] == 'o' {
			return st.Muted.Render(p)
		}
		return st.Row.Render(p)
	})
	s.table.height = h
	if len(s.visible) == 0 {
		body += "\n\n" + joinLines(wrapIndented(st.Muted, "nothing matches the filter — esc clears it", 2, w))
	}
	if fl != "" {
		body = fitLines(body, w, th) + "\n" + fl
	}
	if s.confirm.active {
		body = s.confirm.Over(st, body, w, h)
	}
	return body
}

func (s *instancesScreen) emptyView() string {
	st := s.ctx.Styles
	w := s.table.width
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
	return joinLines(lines)
}

func (s *instancesScreen) ShortHelp() []key.Binding {
	if s.filter.Typing() {
		return []key.Binding{bind("enter", "enter", "apply"), bind("esc", "esc", "clear")}
	}
	if s.confirm.active {
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	}
	k := s.keys
	return []key.Binding{k.Open, k.New, k.Edit, k.Delete, k.Poller, k.PollNow, k.Copy, k.Filter}
}

func (s *instancesScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return append([][]key.Binding{k.nav(), {k.Open, k.New}}, k.help()...)
}
