package ui

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/eventdesk/eventdesk/model"
)

// deliveriesPage is how many notifications one load reads; scrolling to
// the end reads the next page.
const deliveriesPage = 200

// deliveryViews are the state tabs: failing is pending with at least one
// failed attempt in the current cycle.
var deliveryViews = []string{"all", "pending", "failing", "dead"}

type deliveryKeys struct {
	ListKeys
	Open, View, ViewPrev, Replay, ReplayDead key.Binding
}

type deliveriesLoadedMsg struct {
	addr
	gen    int
	append bool
	rows   []model.Notification
	lanes  []model.LaneStatus
	// excerpts are the first line of the last response of rows whose last
	// attempt got a failing HTTP status without a transport error.
	excerpts map[string]string
	next     uint64
	err      error
}

// deliveriesScreen lists callback notifications: pending, failing, dead.
type deliveriesScreen struct {
	listBase[model.Notification, string]
	id      int
	instID  int64
	keys    deliveryKeys
	view    int
	next    uint64
	confirm confirmDialog
	gen     int
	loading bool

	// excerpts: see deliveriesLoadedMsg; the ERROR column shows them.
	excerpts map[string]string
	// trouble: held lanes and open circuits, shown above the table.
	trouble []string
}

func newDeliveriesScreen(ctx *Context, instID int64) *deliveriesScreen {
	s := &deliveriesScreen{id: ctx.newID(), instID: instID, keys: deliveryKeys{
		ListKeys:   ctx.List,
		Open:       bind("enter", "enter", "detail"),
		View:       bind("s tab", "s/tab", "state"),
		ViewPrev:   bind("S shift+tab", "S/shift+tab", "previous state"),
		Replay:     bind("r", "r", "replay"),
		ReplayDead: bind("R", "R", "replay all dead"),
	}}
	cols := []column{
		{title: "ID", width: 6, right: true},
		{title: "INSTANCE", width: 10, flex: 1},
		{title: "CREATED", width: 8},
		{title: "STATE", width: 9},
		{title: "TRIES", width: 5, right: true},
		{title: "LAST", width: 4},
		{title: "NEXT", width: 7},
		{title: "EVENTS", width: 6, right: true},
		{title: "ERROR", width: 8, flex: 2},
	}
	s.listBase = newListBase(ctx, cols, listSpec[model.Notification, string]{
		noun:  "notifications",
		key:   func(n model.Notification) string { return n.ID },
		cells: s.cells,
		style: func(n model.Notification, c int, p string) string {
			st := s.ctx.Styles
			switch c {
			case 3:
				return st.stateStyle(string(n.State)).Render(p)
			case 8:
				return st.Error.Render(p)
			}
			return st.Row.Render(p)
		},
		match: func(n model.Notification, q string) bool {
			return matchAll(q, n.ID, s.ctx.instanceLabel(n.InstanceID), string(n.State), failureText(n, s.excerpts[n.ID]), n.ObjectType, string(n.Source), strconv.Itoa(n.LastStatus))
		},
		moved: s.paged,
		compare: []func(a, b model.Notification) int{
			1: func(a, b model.Notification) int { return cmp.Compare(a.InstanceID, b.InstanceID) },
			2: func(a, b model.Notification) int { return a.CreatedAt.Compare(b.CreatedAt) },
			6: func(a, b model.Notification) int { return nextTime(a).Compare(nextTime(b)) },
		},
		natural: naturalOrder{col: 0, dir: sortDesc, text: "newest first"},
		empty: func(w int) []string {
			return append([]string{""}, wrapIndented(s.ctx.Styles.Muted, fmt.Sprintf("No %s notifications. Notifications are sent for instances with events enabled and a callback URL. s switches the state.",
				strings.ReplaceAll(deliveryViews[s.view], "all", "callback")), 2, w)...)
		},
		noMatch: "nothing matches the filter — esc clears it",
	})
	return s
}

// nextTime is when a pending notification goes out; zero for the others,
// whose NEXT column is empty.
func nextTime(n model.Notification) time.Time {
	if n.State != model.StatePending {
		return time.Time{}
	}
	return n.NextAttempt
}

func (s *deliveriesScreen) ID() int { return s.id }
func (s *deliveriesScreen) Title() string {
	if s.instID != 0 {
		return "Deliveries of " + s.ctx.instanceLabel(s.instID)
	}
	return "Deliveries"
}
func (s *deliveriesScreen) Init() tea.Cmd    { return s.load(false) }
func (s *deliveriesScreen) Refresh() tea.Cmd { return s.load(false) }
func (s *deliveriesScreen) Capturing() bool  { return s.listBase.Capturing() || s.confirm.active }

func (s *deliveriesScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	return s.listBase.Cancel()
}

func (s *deliveriesScreen) Status() string {
	var tabs []string
	for i, v := range deliveryViews {
		if i == s.view {
			v = "[" + v + "]"
		}
		tabs = append(tabs, v)
	}
	return strings.Join(tabs, " ")
}

// load reads the newest page again (keeping as many rows as were loaded,
// so a refresh never shortens the list under the cursor) or the next page.
func (s *deliveriesScreen) load(more bool) tea.Cmd {
	if s.loading && !more {
		return nil
	}
	s.loading = true
	st, sid, gen := s.ctx.Backend, s.id, s.gen
	f := model.NotificationFilter{InstanceID: s.instID}
	switch deliveryViews[s.view] {
	case "pending", "failing":
		f.State = model.StatePending
	case "dead":
		f.State = model.StateDead
	}
	want := max(deliveriesPage, len(s.rows))
	if more {
		f.Before, want = s.next, deliveriesPage
	}
	failing := deliveryViews[s.view] == "failing"
	f.Failing = failing
	return func() tea.Msg {
		m := deliveriesLoadedMsg{addr: addr{sid}, gen: gen, append: more}
		// Lane state only adds a warning line: a failure to read it must
		// not hide the notifications.
		m.lanes, _ = st.Lanes(opCtx())
		for len(m.rows) < want {
			ns, next, err := st.Notifications(opCtx(), f, want-len(m.rows))
			if err != nil {
				m.err = err
				return m
			}
			for _, n := range ns {
				if !failing || n.Tries() > 0 {
					m.rows = append(m.rows, n)
				}
			}
			m.next = next
			if next == 0 || !failing {
				break
			}
			f.Before = next
		}
		m.excerpts = responseExcerpts(st, m.rows)
		return m
	}
}

// responseExcerpts reads, for each notification whose last attempt got a
// failing HTTP status and no transport error, the first line of that
// attempt's response: the notification keeps only the status.
func responseExcerpts(st interface {
	Attempts(ctx context.Context, id string) ([]model.Attempt, error)
}, rows []model.Notification) map[string]string {
	out := map[string]string{}
	for _, n := range rows {
		if n.LastError != "" || n.LastStatus == 0 || httpOK(n.LastStatus) {
			continue
		}
		as, err := st.Attempts(opCtx(), n.ID)
		if err != nil || len(as) == 0 {
			continue
		}
		if line := firstLine(as[len(as)-1].Response); line != "" {
			out[n.ID] = line
		}
	}
	return out
}

func httpOK(status int) bool { return status >= 200 && status <= 299 }

// firstLine is the first non-blank line of a response, its runs of
// spaces folded and escape sequences and control characters dropped, so
// a receiver's answer is safe and short in a table cell.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, ansi.Strip(l))
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			return l
		}
	}
	return ""
}

// failureText is a notification's last failure for the ERROR column: the
// transport error if there was one, else "HTTP 500" and the first line of
// the response; "" when the last attempt succeeded or none was made.
func failureText(n model.Notification, excerpt string) string {
	switch {
	case n.LastError != "":
		return n.LastError
	case n.LastStatus != 0 && !httpOK(n.LastStatus):
		s := "HTTP " + strconv.Itoa(n.LastStatus)
		if excerpt != "" {
			s += ": " + excerpt
		}
		return s
	}
	return ""
}

func (s *deliveriesScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case deliveriesLoadedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.loading, s.loaded, s.err = false, true, msg.err
		if msg.err != nil {
			return nil
		}
		if msg.append {
			s.rows = append(s.rows, msg.rows...)
			if s.excerpts == nil {
				s.excerpts = map[string]string{}
			}
			for k, v := range msg.excerpts {
				s.excerpts[k] = v
			}
		} else {
			s.rows, s.excerpts = msg.rows, msg.excerpts
		}
		s.next = msg.next
		if !msg.append {
			s.trouble = laneTrouble(s.ctx, msg.lanes, s.instID)
		}
		s.refresh()
	case tea.MouseMsg:
		return s.wheel(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

// cells are a notification's columns.
func (s *deliveriesScreen) cells(n model.Notification) []string {
	last := ""
	if n.LastStatus != 0 {
		last = strconv.Itoa(n.LastStatus)
	}
	next := ""
	if n.State == model.StatePending {
		next = nextTry(s.ctx, n)
	}
	return []string{n.ID, s.ctx.instanceLabel(n.InstanceID), s.ctx.clock(n.CreatedAt), string(n.State), strconv.Itoa(n.Tries()), last, next, strconv.Itoa(len(n.EventIDs)), failureText(n, s.excerpts[n.ID])}
}

// paged reads the next page as the cursor nears the end.
func (s *deliveriesScreen) paged() tea.Cmd {
	if s.table.cursor >= len(s.visible)-feedPrefetch && s.next != 0 && !s.loading {
		return s.load(true)
	}
	return nil
}

func (s *deliveriesScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.confirm.active {
		return s.confirm.Update(msg)
	}
	if cmd, ok := s.listKey(msg); ok {
		return cmd
	}
	k := s.keys
	if cmd, ok := s.table.wideKeyMsg(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.View, k.ViewPrev):
		step := 1
		if key.Matches(msg, k.ViewPrev) {
			step = len(deliveryViews) - 1
		}
		s.view = (s.view + step) % len(deliveryViews)
		s.gen++
		s.loading = false
		s.rows, s.visible = nil, nil
		s.table.cursor = 0
		return s.load(false)
	}
	n, ok := s.current()
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		return s.ctx.push(newDeliveryScreen(s.ctx, n.ID))
	case key.Matches(msg, k.Replay):
		return replayNotification(s.ctx, n.ID)
	case key.Matches(msg, copyCurl):
		return copyNotificationCurl(s.ctx, n.ID)
	case key.Matches(msg, jumpEvents):
		return s.ctx.push(newNotificationEventsScreen(s.ctx, n.ID))
	case key.Matches(msg, k.ReplayDead):
		id := n.InstanceID
		if s.instID != 0 {
			id = s.instID
		}
		s.confirm.ask(fmt.Sprintf("Replay every dead notification of %s?", s.ctx.instanceLabel(id)), func() tea.Cmd { return replayDead(s.ctx, id) })
	}
	return nil
}

func (s *deliveriesScreen) View() string {
	st := s.ctx.Styles
	w, h := s.w, s.h
	var banner []string
	for _, t := range s.trouble {
		if len(banner) < max(h/3, 1) {
			banner = append(banner, st.Warn.Render(truncate(" ⚠ "+t, w)))
		}
	}
	body := s.listView("notifications", banner)
	if s.confirm.active {
		body = s.confirm.Over(st, body, w, h)
	}
	return body
}

func (s *deliveriesScreen) ShortHelp() []key.Binding {
	switch {
	case s.confirm.active:
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	case s.Capturing():
		return s.modalHelp()
	}
	k := s.keys
	return []key.Binding{k.Open, k.View, k.Replay, k.ReplayDead, k.Filter}
}

func (s *deliveriesScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return [][]key.Binding{k.nav(), {k.Open, k.View, k.ViewPrev, k.Replay, k.ReplayDead, copyCurl, jumpEvents, wideKey}, s.sortHelp()}
}

// deliveryDoc is what the delivery detail shows.
type deliveryDoc struct {
	n        model.Notification
	attempts []model.Attempt
	in       *model.Instance
}

// newDeliveryScreen shows one notification: state, attempts, exact body.
func newDeliveryScreen(ctx *Context, id string) *docScreen {
	st := ctx.Backend
	s := newDocScreen(ctx, "Notification "+id, func() (any, error) {
		n, err := st.Notification(opCtx(), id)
		if err != nil {
			return nil, err
		}
		d := deliveryDoc{n: n}
		d.attempts, _ = st.Attempts(opCtx(), id)
		if in, err := st.Instance(opCtx(), n.InstanceID); err == nil {
			d.in = &in
		}
		return d, nil
	}, func(data any, w int) string { return renderDelivery(ctx, data.(deliveryDoc), w) })
	replay, cp := bind("r", "r", "replay"), bind("c", "c", "copy body")
	s.actions = []key.Binding{replay, cp, copyCurl, jumpInstance, jumpEvents}
	s.act = func(k key.Binding, data any) tea.Cmd {
		d := data.(deliveryDoc)
		switch k.Help().Key {
		case replay.Help().Key:
			return replayNotification(ctx, d.n.ID)
		case jumpInstance.Help().Key:
			return ctx.push(newDetailScreen(ctx, d.n.InstanceID))
		case jumpEvents.Help().Key:
			return ctx.push(newNotificationEventsScreen(ctx, d.n.ID))
		case copyCurl.Help().Key:
			return copyNotificationCurl(ctx, d.n.ID)
		}
		text, _ := prettyJSON(d.n.Body)
		return copyText(text, "notification "+d.n.ID+" body")
	}
	return s
}

func renderDelivery(ctx *Context, d deliveryDoc, w int) string {
	st := ctx.Styles
	n := d.n
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(" " + st.Label.Render(pad(label, 12)) + " " + value + "\n")
	}
	b.WriteString(" " + st.Title.Render("Notification "+n.ID) + st.Muted.Render("  "+string(n.Source)+" · "+n.ObjectType) + "\n")
	field("instance", ctx.instanceLabel(n.InstanceID))
	if d.in != nil {
		field("callback", d.in.CallbackURL())
	}
	field("state", st.stateStyle(string(n.State)).Render(string(n.State)))
	field("created", ctx.stamp(n.CreatedAt))
	if n.State == model.StatePending {
		field("next try", ctx.stamp(n.NextAttempt)+" ("+nextTry(ctx, n)+")")
	}
	if !n.DeliveredAt.IsZero() {
		field("delivered", ctx.stamp(n.DeliveredAt))
	}
	field("webhook-id", n.WebhookID)
	ids := append([]string(nil), n.EventIDs...)
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) < len(ids[j]) || len(ids[i]) == len(ids[j]) && ids[i] < ids[j] })
	field("events", truncate(strings.Join(ids, ", "), max(10, w-16)))
	b.WriteString("\n " + st.Section.Render("Attempts") + st.Muted.Render(fmt.Sprintf("  %d in this cycle, %d in all", n.Tries(), n.Attempts)) + "\n")
	if len(d.attempts) == 0 {
		b.WriteString("  " + st.Muted.Render("none yet") + "\n")
	}
	for _, a := range d.attempts {
		b.WriteString("  " + attemptLine(ctx, a) + "\n")
	}
	b.WriteString("\n " + st.Section.Render("Body") + st.Muted.Render(fmt.Sprintf("  %d bytes, sent as is on every try · c copies", len(n.Body))) + "\n")
	text, ok := prettyJSON(n.Body)
	if ok {
		text = colorJSON(st, text)
	}
	b.WriteString(indent(text, " "))
	return b.String()
}

// nextTry is when a pending notification goes out: "due" once its time
// has come (the dispatcher is on it), else "in 2m".
func nextTry(ctx *Context, n model.Notification) string {
	if n.NextAttempt.IsZero() || !n.NextAttempt.After(ctx.Now()) {
		return "due"
	}
	return ctx.ago(n.NextAttempt)
}

// laneTrouble describes, one line each, what holds back deliveries (of
// one instance, or of all when instID is 0): a held ordered lane, an open
// circuit, a pause. Calm lanes say nothing.
func laneTrouble(ctx *Context, lanes []model.LaneStatus, instID int64) []string {
	var out []string
	for _, l := range lanes {
		if instID != 0 && l.InstanceID != instID {
			continue
		}
		var parts []string
		prefix := ""
		if instID == 0 {
			prefix = ctx.instanceLabel(l.InstanceID) + ": "
		}
		if l.Paused != "" {
			parts = append(parts, "paused: "+l.Paused)
		}
		if l.Held() {
			parts = append(parts, fmt.Sprintf("held since %s by notification %s (ordered)", ctx.clock(l.HeldSince), l.HeldBy))
		}
		if l.CircuitOpen {
			parts = append(parts, fmt.Sprintf("circuit open (callback failing), next try %s", ctx.clock(l.CircuitUntil)))
		}
		for _, p := range parts {
			out = append(out, prefix+p)
		}
	}
	return out
}
