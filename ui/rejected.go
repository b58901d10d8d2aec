package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

type rejectedLoadedMsg struct {
	addr
	rows []model.Rejected
	err  error
}

// rejectedScreen lists requests the listener refused, newest first: the
// first place to look when a vendor says its delivery failed. The store
// keeps at most model.RejectedCapacity, so one load reads them all.
type rejectedScreen struct {
	ctx     *Context
	id      int
	keys    ListKeys
	open    key.Binding
	rows    []model.Rejected
	visible []int
	table   tableView
	filter  filterBox
	loaded  bool
	err     error
	selID   string
	// prefix is the path prefix every row shares, shown as "…/".
	prefix string
	w, h   int
}

func newRejectedScreen(ctx *Context) *rejectedScreen {
	s := &rejectedScreen{ctx: ctx, id: ctx.newID(), keys: ctx.List, open: bind("enter", "enter", "detail"), filter: newFilterBox()}
	s.table.cols = []column{
		{title: "TIME", width: 8},
		{title: "CODE", width: 4},
		{title: "PATH", width: 12, flex: 2},
		{title: "REASON", width: 12, flex: 3},
		{title: "FROM", width: 15},
	}
	return s
}

func (s *rejectedScreen) ID() int          { return s.id }
func (s *rejectedScreen) Title() string    { return "Rejected requests" }
func (s *rejectedScreen) Init() tea.Cmd    { return s.load() }
func (s *rejectedScreen) Refresh() tea.Cmd { return s.load() }
func (s *rejectedScreen) SetSize(w, h int) { s.w, s.h, s.table.width, s.table.height = w, h, w, h }
func (s *rejectedScreen) Capturing() bool  { return s.filter.Typing() }

func (s *rejectedScreen) Cancel() (bool, tea.Cmd) {
	if s.filter.Cancel() {
		s.applyFilter()
		return true, nil
	}
	return false, nil
}

func (s *rejectedScreen) Status() string {
	if s.loaded {
		return fmt.Sprintf("%d kept (at most %d)", len(s.rows), model.RejectedCapacity)
	}
	return ""
}

func (s *rejectedScreen) load() tea.Cmd {
	st, sid := s.ctx.Backend, s.id
	return func() tea.Msg {
		rows, _, err := st.Rejected(opCtx(), 0, model.RejectedCapacity)
		return rejectedLoadedMsg{addr: addr{sid}, rows: rows, err: err}
	}
}

func (s *rejectedScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rejectedLoadedMsg:
		s.loaded, s.err = true, msg.err
		if msg.err == nil {
			s.rows = msg.rows
			s.applyFilter()
		}
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			s.table.cursor = max(0, s.table.cursor-3)
		case tea.MouseButtonWheelDown:
			s.table.cursor = min(len(s.visible)-1, s.table.cursor+3)
		}
		s.remember()
	case tea.KeyMsg:
		if s.filter.Typing() {
			if s.filter.Update(msg) {
				s.applyFilter()
			}
			return nil
		}
		if c, ok := s.keys.move(msg, s.table.cursor, len(s.visible), s.table.rows()); ok {
			s.table.cursor = c
			s.remember()
			return nil
		}
		switch {
		case key.Matches(msg, s.keys.Filter):
			s.filter.Start()
		case key.Matches(msg, s.open) && len(s.visible) > 0:
			r := s.rows[s.visible[s.table.cursor]]
			d := newDocScreen(s.ctx, "Rejected "+r.ID, func() (any, error) { return r, nil },
				func(data any, w int) string { return renderRejected(s.ctx, data.(model.Rejected), w) })
			d.actions = []key.Binding{jumpInstance, copyCurl}
			d.act = func(k key.Binding, _ any) tea.Cmd {
				if k.Help().Key == copyCurl.Help().Key {
					return copyText(rejectedCurl(s.ctx.PublicURL, r), "curl command")
				}
				return s.jumpInstance(r)
			}
			return s.ctx.push(d)
		case key.Matches(msg, jumpInstance) && len(s.visible) > 0:
			return s.jumpInstance(s.rows[s.visible[s.table.cursor]])
		case key.Matches(msg, copyCurl) && len(s.visible) > 0:
			if r := s.rows[s.visible[s.table.cursor]]; r.Dropped == 0 {
				return copyText(rejectedCurl(s.ctx.PublicURL, r), "curl command")
			}
		}
	}
	return nil
}

// commonDir is the longest '/'-bounded prefix all paths share ("" when
// there is none worth dropping): every webhook path starts with the same
// "/elements/api-v2/events/", which would fill the column on its own.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	p := paths[0]
	for _, q := range paths[1:] {
		n := 0
		for n < len(p) && n < len(q) && p[n] == q[n] {
			n++
		}
		p = p[:n]
	}
	// Only whole segments, and never the whole of a path.
	for _, q := range paths {
		if len(p) >= len(q) {
			p = p[:max(0, len(q)-1)]
		}
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return ""
	}
	p = p[:i+1]
	// Keep the last two segments of every path (the element and the
	// encoded instance of a webhook path say which instance it was for).
	for p != "" {
		short := false
		for _, q := range paths {
			if !strings.Contains(strings.TrimSuffix(q[len(p):], "/"), "/") {
				short = true
				break
			}
		}
		if !short {
			break
		}
		p = p[:strings.LastIndexByte(p[:len(p)-1], '/')+1]
	}
	if len(p) <= 1 {
		return ""
	}
	return p
}

// shortPath is a path with the common prefix replaced by "…/".
func (s *rejectedScreen) shortPath(p string) string {
	if s.prefix == "" || !strings.HasPrefix(p, s.prefix) {
		return p
	}
	return "…/" + p[len(s.prefix):]
}

func (s *rejectedScreen) applyFilter() {
	paths := make([]string, 0, len(s.rows))
	for _, r := range s.rows {
		if r.Dropped == 0 {
			paths = append(paths, r.Path)
		}
	}
	s.prefix = commonDir(paths)
	q := s.filter.Query()
	s.visible = s.visible[:0]
	cursor := -1
	for i, r := range s.rows {
		if !matchAll(q, r.Path, r.Reason, r.RemoteAddr, strconv.Itoa(r.Status), r.Method, r.Body) {
			continue
		}
		if r.ID == s.selID {
			cursor = len(s.visible)
		}
		s.visible = append(s.visible, i)
	}
	if cursor >= 0 {
		s.table.cursor = cursor
	}
	s.table.cursor = clamp(s.table.cursor, 0, len(s.visible)-1)
	s.remember()
}

func (s *rejectedScreen) remember() {
	if len(s.visible) > 0 {
		s.selID = s.rows[s.visible[clamp(s.table.cursor, 0, len(s.visible)-1)]].ID
	}
}

func (s *rejectedScreen) View() string {
	st := s.ctx.Styles
	w, h := s.w, s.h
	fl := s.filter.View(st, w)
	th := h
	if fl != "" {
		th--
	}
	var body string
	switch {
	case s.err != nil:
		body = st.Error.Render(" cannot read rejected requests: " + s.err.Error())
	case !s.loaded:
		body = st.Muted.Render(" loading…")
	case len(s.rows) == 0:
		body = joinLines(append([]string{""}, wrapIndented(st.Muted, "No rejected requests. Every webhook the listener refuses (bad id, unknown instance, failed auth or signature, invalid JSON, too large) shows up here with its reason.", 2, w)...))
	default:
		s.table.width, s.table.height = w, th
		body = s.table.render(st, len(s.visible), func(i int) []string {
			r := s.rows[s.visible[i]]
			if r.Dropped > 0 {
				// The count of rejections that came too fast to be kept.
				return []string{s.ctx.clock(r.Time), "-", fmt.Sprintf("(%d not recorded)", r.Dropped), r.Reason, ""}
			}
			return []string{s.ctx.clock(r.Time), strconv.Itoa(r.Status), s.shortPath(r.Path), r.Reason, r.RemoteAddr}
		}, func(i, c int, p string) string {
			if c == 1 {
				return st.Error.Render(p)
			}
			return st.Row.Render(p)
		})
	}
	if fl != "" {
		body = fitLines(body, w, th) + "\n" + fl
	}
	return body
}

// jumpInstance opens the instance a rejected webhook was meant for; the
// detail says so when that instance does not exist (the usual reason).
func (s *rejectedScreen) jumpInstance(r model.Rejected) tea.Cmd {
	id, ok := rejectedInstance(r.Path)
	if !ok {
		return toast(toastInfo, "the path "+r.Path+" names no instance")
	}
	return s.ctx.push(newDetailScreen(s.ctx, id))
}

func (s *rejectedScreen) ShortHelp() []key.Binding {
	if s.filter.Typing() {
		return []key.Binding{bind("enter", "enter", "apply"), bind("esc", "esc", "clear")}
	}
	return []key.Binding{s.open, jumpInstance, s.keys.Filter}
}

func (s *rejectedScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.keys.nav(), {s.open, jumpInstance, copyCurl}}
}

func renderRejected(ctx *Context, r model.Rejected, w int) string {
	st := ctx.Styles
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(" " + st.Label.Render(pad(label, 12)) + " " + value + "\n")
	}
	if r.Dropped > 0 {
		b.WriteString(" " + st.Title.Render(fmt.Sprintf("%d rejected requests not recorded", r.Dropped)) + "\n")
		field("reason", st.Error.Render(r.Reason))
		field("time", ctx.stamp(r.Time))
		return b.String()
	}
	b.WriteString(" " + st.Title.Render(fmt.Sprintf("%d %s %s", r.Status, r.Method, r.Path)) + "\n")
	field("reason", st.Error.Render(r.Reason))
	field("time", ctx.stamp(r.Time))
	field("from", r.RemoteAddr)
	field("request id", r.RequestID)
	b.WriteString("\n " + st.Section.Render("Headers") + st.Muted.Render("  secrets redacted") + "\n")
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString("  " + st.Label.Render(k+":") + " " + strings.Join(r.Headers[k], ", ") + "\n")
	}
	note := fmt.Sprintf("  %d bytes kept", len(r.Body))
	if r.Truncated {
		note += ", cut at 4 KiB"
	}
	b.WriteString("\n " + st.Section.Render("Body") + st.Muted.Render(note) + "\n")
	text, ok := prettyJSON([]byte(r.Body))
	if ok {
		text = colorJSON(st, text)
	}
	b.WriteString(indent(text, " "))
	return b.String()
}
