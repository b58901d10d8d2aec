package ui

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/eventdesk/eventdesk/model"
)

// The feed holds a window of rows and pages the rest from the store, so it
// costs the same with a thousand events as with a million.
const (
	feedWindow = 500
	feedPage   = 200
	// feedNewerLimit is the most new events one refresh reads; a feed
	// further behind reloads its newest page instead.
	feedNewerLimit = 1000
	// feedPrefetch is how close to the window's end the cursor may come
	// before older rows are fetched.
	feedPrefetch = 20
)

type feedLoadKind int

const (
	loadReset feedLoadKind = iota // the newest page (start, filter, resume)
	loadNewer                     // what arrived since the last look
	loadOlder                     // the page below the window
	loadUp                        // the page above a window that left the head
)

type feedLoadedMsg struct {
	addr
	kind feedLoadKind
	gen  int
	// events are newest first for reset and older, oldest first for
	// newer and up.
	events []model.Event
	next   uint64 // older cursor after reset/older (0 = no more)
	last   uint64 // newest id examined (reset: the head at load time)
	more   bool   // newer/up hit the read limit
	states map[string]delivery
	err    error
}

type eventKeys struct {
	ListKeys
	Open, Follow, Replay, Copy key.Binding
}

func newEventKeys(l ListKeys) eventKeys {
	return eventKeys{
		ListKeys: l,
		Open:     bind("enter", "enter", "detail"),
		Follow:   bind("f", "f", "follow/pause"),
		Replay:   bind("r", "r", "replay"),
		Copy:     bind("c", "c", "copy JSON"),
	}
}

// eventsScreen is the live feed: newest on top, following new events
// until paused, the selection anchored to its event. Its rows are the
// window in the store's order, newest first; a sort orders the visible
// rows only, so paging and following work on the window as ever.
type eventsScreen struct {
	listBase[model.Event, uint64]
	id     int
	instID int64
	keys   eventKeys
	query  feedQuery

	states   map[string]delivery
	atHead   bool   // rows[0] is the newest matching event
	older    uint64 // cursor below the window, 0 at the oldest
	seen     uint64 // newest event id looked at
	follow   bool
	newCount int

	gen     int
	loading bool
	queued  bool
	// search is set while the filter searches every stored event (search.go).
	search *feedSearch
}

func newEventsScreen(ctx *Context, instID int64) *eventsScreen {
	s := &eventsScreen{id: ctx.newID(), instID: instID, keys: newEventKeys(ctx.List), follow: true, states: map[string]delivery{}}
	s.query = parseFeedQuery("", instID, ctx.Now())
	cols := []column{
		{title: "TIME", width: 8},
		{title: "INSTANCE", width: 10, flex: 1},
		{title: "SOURCE", width: 7},
		{title: "OBJECT TYPE", width: 13},
		{title: "EVENT", width: 7},
		{title: "OBJECT ID", width: 9, flex: 1},
		{title: "DELIVERY", width: 9},
	}
	s.listBase = newListBase(ctx, cols, listSpec[model.Event, uint64]{
		noun:     "events",
		key:      model.Event.Seq,
		cells:    s.cells,
		style:    s.style,
		refilter: s.refilter,
		moved:    s.paged,
		compare: []func(a, b model.Event) int{
			0: func(a, b model.Event) int {
				if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
					return c
				}
				return cmp.Compare(a.Seq(), b.Seq())
			},
			1: func(a, b model.Event) int { return cmp.Compare(a.InstanceID, b.InstanceID) },
		},
		natural: naturalOrder{col: 0, dir: sortDesc, text: "newest first"},
		empty: func(w int) []string {
			return append([]string{"", ctx.Styles.Title.Render("  No events yet."), ""},
				wrapIndented(lipgloss.NewStyle(), "Events appear here as they arrive: from webhooks the vendor posts to an instance's webhook URL (y on an instance copies it), or from polls (P polls now).", 2, w)...)
		},
		noMatch: "no event matches the filter (the newest " + strconv.Itoa(maxScan) + " were searched) — esc clears it",
		blank:   s.searchEmpty,
	})
	return s
}

func (s *eventsScreen) ID() int { return s.id }
func (s *eventsScreen) Title() string {
	if s.instID != 0 {
		return "Events of " + s.ctx.instanceLabel(s.instID)
	}
	return "Events"
}
func (s *eventsScreen) Init() tea.Cmd { return s.load(loadReset) }

// Cancel stops a running search first (what it found stays), then does
// what esc does on every list.
func (s *eventsScreen) Cancel() (bool, tea.Cmd) {
	if s.cancelSearch() {
		return true, nil
	}
	return s.listBase.Cancel()
}

func (s *eventsScreen) Status() string {
	if st, ok := s.searchStatus(); ok {
		return st
	}
	n := strconv.Itoa(len(s.rows)) + " rows"
	switch {
	case !s.loaded:
		return "loading…"
	case !s.atHead:
		return "history · " + n + " · f jumps to newest"
	case !s.follow && s.newCount > 0:
		return fmt.Sprintf("paused · %d new · f follows", s.newCount)
	case !s.follow:
		return "paused · " + n
	}
	return "following · " + n
}

// Refresh is the store's change signal: read what is new.
func (s *eventsScreen) Refresh() tea.Cmd {
	if s.search != nil {
		return nil // search results stay as found
	}
	return s.load(loadNewer)
}

// load starts one read; one runs at a time per kind of work, and a change
// that arrives meanwhile queues one more refresh.
func (s *eventsScreen) load(kind feedLoadKind) tea.Cmd {
	if s.loading && kind != loadReset {
		if kind == loadNewer {
			s.queued = true
		}
		return nil
	}
	s.loading = true
	st, sid, gen, q := s.ctx.Backend, s.id, s.gen, s.query
	names := make(map[int64]string, len(s.ctx.names))
	for k, v := range s.ctx.names {
		names[k] = v
	}
	label := func(id int64) string {
		return "#" + strconv.FormatInt(id, 10) + " " + names[id]
	}
	instID := q.store.InstanceID
	seen, older := s.seen, s.older
	var minSeq, top uint64
	if len(s.rows) > 0 {
		minSeq, top = s.rows[len(s.rows)-1].Seq(), s.rows[0].Seq()
	}
	return func() tea.Msg {
		m := feedLoadedMsg{addr: addr{sid}, kind: kind, gen: gen}
		switch kind {
		case loadReset:
			head, err := st.LastEventID(opCtx())
			if err != nil {
				m.err = err
				return m
			}
			m.last = head
			m.events, m.next, m.err = fetchOlder(st, q, label, head+1, feedPage)
			if len(m.events) > 0 {
				minSeq, top = m.events[len(m.events)-1].Seq(), m.events[0].Seq()
			}
		case loadOlder:
			m.events, m.next, m.err = fetchOlder(st, q, label, older, feedPage)
			if len(m.events) > 0 {
				minSeq = m.events[len(m.events)-1].Seq()
			}
		case loadNewer, loadUp:
			after := seen
			if kind == loadUp {
				after = top
			}
			m.events, m.last, m.more, m.err = fetchNewer(st, q, label, after, feedNewerLimit)
			if kind == loadUp && len(m.events) > feedPage {
				m.events, m.more = m.events[:feedPage], true
				m.last = m.events[len(m.events)-1].Seq()
			}
			if n := len(m.events); n > 0 && m.events[n-1].Seq() > top {
				top = m.events[n-1].Seq()
			}
		}
		if m.err == nil && top > 0 {
			m.states = deliveriesFor(st, instID, minSeq, top)
		}
		return m
	}
}

// refilter restarts the feed for a new filter; results of the old one are
// dropped by generation.
func (s *eventsScreen) refilter() tea.Cmd {
	s.gen++
	s.query = parseFeedQuery(s.filter.Query(), s.instID, s.ctx.Now())
	s.loading = false
	if cmd, ok := s.refilterSearch(); ok {
		return cmd
	}
	return s.load(loadReset)
}

func (s *eventsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case searchChunkMsg:
		return s.applySearch(msg)
	case feedLoadedMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.loading = false
		cmd := s.apply(msg)
		if cmd == nil && s.queued {
			s.queued = false
			cmd = s.load(loadNewer)
		}
		return cmd
	case tea.MouseMsg:
		return s.wheel(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

// apply merges a load into the window.
func (s *eventsScreen) apply(m feedLoadedMsg) tea.Cmd {
	if m.err != nil {
		s.err = m.err
		return nil
	}
	s.err = nil
	if m.kind == loadReset || s.states == nil {
		s.states = map[string]delivery{}
	}
	for k, v := range m.states {
		s.states[k] = v
	}
	switch m.kind {
	case loadReset:
		s.rows, s.older, s.seen, s.atHead, s.newCount, s.loaded = m.events, m.next, m.last, true, 0, true
		s.rebuild()
		if s.follow || !s.anchor() {
			s.table.cursor = 0
		}
	case loadOlder:
		s.rows = append(s.rows, m.events...)
		s.older = m.next
		if over := len(s.rows) - feedWindow; over > 0 {
			s.rows = s.rows[over:]
			s.atHead, s.follow = false, false
		}
		s.rebuild()
		s.anchor()
	case loadNewer:
		if m.last > s.seen {
			s.seen = m.last
		}
		if !(s.follow && s.atHead) {
			s.newCount += len(m.events)
			// Delivery states may have changed, and a sort by them with
			// them.
			s.rebuild()
			s.anchor()
			break
		}
		if m.more {
			// Too far behind to prepend everything: start again at the head.
			return s.load(loadReset)
		}
		// Sorted, new rows take their place in the order and the cursor
		// stays on its event; unsorted, the cursor on the newest row
		// follows the newest.
		s.prepend(m.events, s.table.cursor == 0 && s.order.dir == sortNone)
	case loadUp:
		s.prepend(m.events, false)
		if !m.more {
			s.atHead = true
			if m.last > s.seen {
				s.seen = m.last
			}
		}
	}
	s.table.follow(len(s.visible))
	return nil
}

// prepend puts newer events (oldest first) on top and trims the window's
// bottom. stick keeps the cursor on the newest row, otherwise it stays on
// its event.
func (s *eventsScreen) prepend(evs []model.Event, stick bool) {
	if len(evs) == 0 {
		return
	}
	top := uint64(0)
	if len(s.rows) > 0 {
		top = s.rows[0].Seq()
	}
	add := make([]model.Event, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Seq() > top {
			add = append(add, evs[i])
		}
	}
	s.rows = append(add, s.rows...)
	if over := len(s.rows) - feedWindow; over > 0 {
		s.rows = s.rows[:feedWindow]
		s.older = s.rows[len(s.rows)-1].Seq()
	}
	s.rebuild()
	if stick {
		s.table.cursor = 0
		s.remember()
	} else if !s.anchor() && s.order.dir == sortNone {
		// The rows above the cursor moved it down by as many.
		s.table.cursor = clamp(s.table.cursor+len(add), 0, len(s.visible)-1)
	}
}

// paged reads the page below the window as the cursor nears its end,
// and the page above at its top when the window left the head.
func (s *eventsScreen) paged() tea.Cmd {
	switch {
	case s.table.cursor >= len(s.visible)-feedPrefetch && s.older != 0:
		return s.load(loadOlder)
	case s.table.cursor == 0 && !s.atHead:
		return s.load(loadUp)
	}
	return nil
}

func (s *eventsScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.filter.Typing() && !s.menu.active {
		// Typing does not search on every key: enter starts the search
		// a raw: or id: query names.
		if s.filter.Update(msg) || s.searchOnEnter() {
			return s.refilter()
		}
		return nil
	}
	if cmd, ok := s.searchKey(msg); ok {
		return cmd
	}
	if cmd, ok := s.table.wideKeyMsg(msg); ok {
		return cmd
	}
	k := s.keys
	if !s.Capturing() && key.Matches(msg, k.Top) && !s.atHead {
		// Away from the head, g reads the newest page again.
		s.table.cursor = 0
		s.selected = 0
		s.gen++
		s.loading = false
		return s.load(loadReset)
	}
	if cmd, ok := s.listKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Follow):
		s.follow = !s.follow
		if !s.follow {
			return nil
		}
		s.table.cursor, s.selected = 0, 0
		if !s.atHead || s.newCount > 0 {
			s.gen++
			s.loading = false
			return s.load(loadReset)
		}
		return nil
	}
	e, ok := s.current()
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		return s.ctx.push(newEventScreen(s.ctx, e.ID))
	case key.Matches(msg, k.Replay):
		d, ok := s.states[e.ID]
		if !ok {
			return toast(toastError, fmt.Sprintf("event %s has no notification to replay (its instance had no callback then)", e.ID))
		}
		return replayNotification(s.ctx, d.id)
	case key.Matches(msg, k.Copy):
		return copyEventJSON(s.ctx, e.ID)
	case key.Matches(msg, copyCurl):
		return copyEventCurl(s.ctx, e.ID)
	case key.Matches(msg, historyKey), key.Matches(msg, diffKey):
		cmd, _ := historyOrDiff(s.ctx, msg, e)
		return cmd
	case key.Matches(msg, jumpInstance):
		return s.ctx.push(newDetailScreen(s.ctx, e.InstanceID))
	case key.Matches(msg, jumpNotification):
		d, ok := s.states[e.ID]
		if !ok {
			return toast(toastInfo, fmt.Sprintf("event %s has no notification (its instance had no callback then)", e.ID))
		}
		return s.ctx.push(newDeliveryScreen(s.ctx, d.id))
	}
	return nil
}

// copyEventJSON loads the event (the feed keeps no payloads) and copies it
// as indented JSON.
func copyEventJSON(ctx *Context, id string) tea.Cmd {
	st := ctx.Backend
	return func() tea.Msg {
		e, err := st.Event(opCtx(), id)
		if err != nil {
			return errMsg("copy", err)
		}
		text, _ := prettyJSON(e.Raw)
		return copyMsg{text: text, what: "event " + id + " JSON"}
	}
}

func (s *eventsScreen) View() string { return s.listView("events", nil) }

func (s *eventsScreen) cells(e model.Event) []string {
	state := "—"
	if d, ok := s.states[e.ID]; ok {
		state = string(d.state)
	}
	return []string{s.ctx.clock(e.ReceivedAt), s.ctx.instanceLabel(e.InstanceID), string(e.Source), e.ObjectType, string(e.EventType), e.ObjectID, state}
}

func (s *eventsScreen) style(e model.Event, c int, p string) string {
	st := s.ctx.Styles
	switch c {
	case 0:
		return st.Muted.Render(p)
	case 6:
		d, ok := s.states[e.ID]
		if !ok {
			return st.Muted.Render(p)
		}
		return st.stateStyle(string(d.state)).Render(p)
	}
	return st.Row.Render(p)
}

func (s *eventsScreen) ShortHelp() []key.Binding {
	if m := s.modalHelp(bind("i:", "i:ID t:TYPE e:EVENT s:SOURCE", "narrow"), bind("raw:", "raw:TEXT id:ID", "search all")); m != nil {
		return m
	}
	k := s.keys
	return append(s.searchHelp(), k.Open, k.Follow, k.Filter, k.Replay, k.Copy)
}

func (s *eventsScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return [][]key.Binding{k.nav(), {k.Open, k.Follow, k.Replay, k.Copy, copyCurl, jumpInstance, jumpNotification, historyKey, diffKey, wideKey},
		{bind("i:", "i:ID", "instance"), bind("t:", "t:TYPE", "object type"), bind("oid:", "oid:ID", "object id"), bind("e:", "e:EVENT", "CREATED…"), bind("s:", "s:SOURCE", "polling/webhook"), bind("n:", "n:ID", "a notification's events")},
		{bind("raw:", "raw:TEXT", "search all payloads"), bind("id:", "id:ID", "search all by object id"), bind("since:", "since:2h", "received after"), bind("esc", "esc", "stop a search")},
		s.sortHelp()}
}
