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
	listBase[model.Rejected, string]
	id   int
	open key.Binding
	// prefix is the path prefix every row shares, shown as "…/".
	prefix string
}

func newRejectedScreen(ctx *Context) *rejectedScreen {
	s := &rejectedScreen{id: ctx.newID(), open: bind("enter", "enter", "detail")}
	cols := []column{
		{title: "TIME", width: 8},
		{title: "CODE", width: 4},
		{title: "PATH", width: 12, flex: 2},
		{title: "REASON", width: 12, flex: 3},
		{title: "FROM", width: 15},
	}
	s.listBase = newListBase(ctx, cols, listSpec[model.Rejected, string]{
		noun:  "rejected requests",
		key:   func(r model.Rejected) string { return r.ID },
		cells: s.cells,
		style: func(_ model.Rejected, c int, p string) string {
			if c == 1 {
				return s.ctx.Styles.Error.Render(p)
			}
			return s.ctx.Styles.Row.Render(p)
		},
		match: func(r model.Rejected, q string) bool {
			return matchAll(q, r.Path, r.Reason, r.RemoteAddr, strconv.Itoa(r.Status), r.Method, r.Body)
		},
		compare: []func(a, b model.Rejected) int{
			0: func(a, b model.Rejected) int { return a.Time.Compare(b.Time) },
		},
		natural: naturalOrder{col: 0, dir: sortDesc, text: "newest first"},
		empty: func(w int) []string {
			return append([]string{""}, wrapIndented(s.ctx.Styles.Muted, "No rejected requests. Every webhook the listener refuses (bad id, unknown instance, failed auth or signature, invalid JSON, too large) shows up here with its reason.", 2, w)...)
		},
		noMatch: "nothing matches the filter — esc clears it",
	})
	return s
}

func (s *rejectedScreen) ID() int          { return s.id }
func (s *rejectedScreen) Title() string    { return "Rejected requests" }
func (s *rejectedScreen) Init() tea.Cmd    { return s.load() }
func (s *rejectedScreen) Refresh() tea.Cmd { return s.load() }

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
			s.prefix = commonDir(webhookPaths(s.rows))
			s.refresh()
		}
	case tea.MouseMsg:
		return s.wheel(msg)
	case tea.KeyMsg:
		if cmd, ok := s.listKey(msg); ok {
			return cmd
		}
		r, ok := s.current()
		if !ok {
			return nil
		}
		switch {
		case key.Matches(msg, s.open):
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
		case key.Matches(msg, jumpInstance):
			return s.jumpInstance(r)
		case key.Matches(msg, copyCurl) && r.Dropped == 0:
			return copyText(rejectedCurl(s.ctx.PublicURL, r), "curl command")
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

// webhookPaths are the paths of the rows that are requests (not counts
// of dropped ones).
func webhookPaths(rows []model.Rejected) []string {
	paths := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.Dropped == 0 {
			paths = append(paths, r.Path)
		}
	}
	return paths
}

// cells are a rejected request's columns.
func (s *rejectedScreen) cells(r model.Rejected) []string {
	if r.Dropped > 0 {
		// The count of rejections that came too fast to be kept.
		return []string{s.ctx.clock(r.Time), "-", fmt.Sprintf("(%d not recorded)", r.Dropped), r.Reason, ""}
	}
	return []string{s.ctx.clock(r.Time), strconv.Itoa(r.Status), s.shortPath(r.Path), r.Reason, r.RemoteAddr}
}

func (s *rejectedScreen) View() string { return s.listView("rejected requests", nil) }

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
	if m := s.modalHelp(); m != nil {
		return m
	}
	return []key.Binding{s.open, jumpInstance, s.list.Filter}
}

func (s *rejectedScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.list.nav(), {s.open, jumpInstance, copyCurl}, s.sortHelp()}
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
