package ui

import (
	"context"
	"errors"
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// A "/" filter with raw: or id: searches every stored event, not the
// newest 20,000 the feed pages through: chunk after chunk, each a command
// whose results show as they come, until the oldest event, the result cap
// or esc.
const (
	// searchPageLimit is the most matches one chunk returns.
	searchPageLimit = 200
	// searchMaxRows is where a search stops: a filter that matches more
	// is too broad to read through, and the window stays small.
	searchMaxRows = 2000
)

// feedSearch is the state of the events screen's search.
type feedSearch struct {
	ctx    context.Context
	cancel context.CancelFunc
	// pending: the query is still being typed; enter starts the search.
	pending bool
	running bool
	// Why it ended: the oldest event was reached (done), the result cap
	// (full), esc (stopped) or an error (err).
	done, full, stopped bool
	err                 error
	scanned             int
	// follow is the feed's follow state before the search, restored when
	// the filter no longer searches.
	follow bool
}

// searchChunkMsg is one chunk's result.
type searchChunkMsg struct {
	addr
	gen    int
	page   model.EventSearchPage
	states map[string]delivery
	err    error
}

// stop cancels a running search; what it found stays.
func (fs *feedSearch) stop() {
	if fs.running {
		fs.running, fs.stopped = false, true
	}
	if fs.cancel != nil {
		fs.cancel()
	}
}

// refilterSearch starts, or leaves, search mode for a new query. It
// reports whether the query searches; then cmd is its first chunk (nil
// while the query is still being typed).
func (s *eventsScreen) refilterSearch() (cmd tea.Cmd, searching bool) {
	prev := s.search
	if prev != nil {
		prev.stop()
	}
	if !s.query.searches() {
		if prev != nil {
			s.follow, s.search = prev.follow, nil
		}
		return nil, false
	}
	fs := &feedSearch{follow: s.follow}
	if prev != nil {
		fs.follow = prev.follow
	}
	// Results come from all of history: following the head would mix
	// new events in and move the cursor under the reader.
	s.search, s.follow = fs, false
	s.rows, s.states, s.older, s.atHead, s.loaded, s.err, s.newCount = nil, map[string]delivery{}, 0, true, true, nil, 0
	s.table.cursor, s.table.offset, s.selected = 0, 0, 0
	if s.filter.Typing() {
		fs.pending = true
		return nil, true
	}
	fs.ctx, fs.cancel = context.WithCancel(context.Background())
	fs.running = true
	return s.searchStep(0), true
}

// searchOnEnter reports whether a key that ended typing should start the
// search the query names (typing does not run one per key).
func (s *eventsScreen) searchOnEnter() bool {
	return s.search != nil && s.search.pending && !s.filter.Typing()
}

// searchStep reads the chunk below cursor.
func (s *eventsScreen) searchStep(cursor uint64) tea.Cmd {
	fs := s.search
	st, sid, gen, q, ctx := s.ctx.Backend, s.id, s.gen, s.query, fs.ctx
	label := s.labeler()
	return func() tea.Msg {
		m := searchChunkMsg{addr: addr{sid}, gen: gen}
		m.page, m.err = st.SearchEvents(ctx, q.store, cursor, searchPageLimit)
		if m.err != nil {
			return m
		}
		kept := m.page.Events[:0]
		for _, e := range m.page.Events {
			if q.terms != "" && !q.match(&e, label(e.InstanceID)) {
				continue
			}
			e.Raw = nil // the feed shows metadata; detail reloads the event
			kept = append(kept, e)
		}
		m.page.Events = kept
		if n := len(kept); n > 0 {
			m.states = deliveriesFor(st, q.store.InstanceID, kept[n-1].Seq(), kept[0].Seq())
		}
		return m
	}
}

// labeler is the instance label of the filter's free words, over a copy
// of the name cache a command may read off the UI goroutine.
func (s *eventsScreen) labeler() func(int64) string {
	names := make(map[int64]string, len(s.ctx.names))
	for k, v := range s.ctx.names {
		names[k] = v
	}
	return func(id int64) string { return "#" + strconv.FormatInt(id, 10) + " " + names[id] }
}

// applySearch adds a chunk's matches below the rows and asks for the
// next chunk, unless the search ended. A chunk that comes back after esc
// is dropped.
func (s *eventsScreen) applySearch(m searchChunkMsg) tea.Cmd {
	fs := s.search
	if fs == nil || m.gen != s.gen || !fs.running {
		return nil
	}
	if m.err != nil {
		fs.running = false
		if errors.Is(m.err, context.Canceled) {
			fs.stopped = true
			return nil
		}
		fs.err = m.err
		err := m.err
		return func() tea.Msg { return errMsg("search events", err) }
	}
	fs.scanned += m.page.Scanned
	evs := m.page.Events
	if room := searchMaxRows - len(s.rows); len(evs) > room {
		evs = evs[:room]
	}
	s.rows = append(s.rows, evs...)
	for k, v := range m.states {
		s.states[k] = v
	}
	switch {
	case m.page.Done:
		fs.running, fs.done = false, true
		fs.cancel()
	case len(s.rows) >= searchMaxRows:
		fs.running, fs.full = false, true
		fs.cancel()
	default:
		return s.searchStep(m.page.Next)
	}
	return nil
}

// cancelSearch is esc while a search runs: it stops, and its results stay
// until the next esc clears the filter.
func (s *eventsScreen) cancelSearch() bool {
	if s.search == nil || !s.search.running {
		return false
	}
	s.search.stop()
	return true
}

// searchKey handles the keys that mean something else in search results.
func (s *eventsScreen) searchKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	if s.search == nil || !key.Matches(msg, s.keys.Follow) {
		return nil, false
	}
	return toast(toastInfo, "search results do not follow new events: esc clears the filter, then f follows"), true
}

// searchHelp is the key that matters most while a search runs.
func (s *eventsScreen) searchHelp() []key.Binding {
	if s.search != nil && s.search.running {
		return []key.Binding{bind("esc", "esc", "stop search")}
	}
	return nil
}

// searchStatus is the breadcrumb's status while the filter searches
// (short: it shares the line with the breadcrumb).
func (s *eventsScreen) searchStatus() (string, bool) {
	fs := s.search
	if fs == nil {
		return "", false
	}
	counts := groupDigits(fs.scanned) + " scanned, " + groupDigits(len(s.rows)) + " found"
	switch {
	case fs.pending:
		return "enter searches every stored event", true
	case fs.running:
		return "searching… " + counts, true
	case fs.err != nil:
		return "failed · " + counts, true
	case fs.full:
		return "first " + groupDigits(searchMaxRows) + " found · " + groupDigits(fs.scanned) + " scanned", true
	case fs.stopped:
		return "stopped · " + counts, true
	}
	return "done · " + counts, true
}

// searchEmpty is the body of a search with no result (yet).
func (s *eventsScreen) searchEmpty(w int) (string, bool) {
	fs := s.search
	if fs == nil || len(s.rows) > 0 {
		return "", false
	}
	st := s.ctx.Styles
	var text string
	switch {
	case fs.pending:
		text = "enter searches every stored event: raw: looks inside the payloads (quote a value with spaces: raw:\"Barbara Jones\"), id: is the vendor's object id; esc clears the filter"
	case fs.running:
		text = "searching every stored event… " + groupDigits(fs.scanned) + " scanned so far — esc stops"
	case fs.err != nil:
		return joinLines(wrapIndented(st.Error, "search failed: "+fs.err.Error(), 1, w)), true
	case fs.stopped:
		text = "no match in the " + groupDigits(fs.scanned) + " events searched before esc stopped the search — esc clears the filter"
	default:
		text = "no stored event matches the filter (all " + groupDigits(fs.scanned) + " were searched) — esc clears it"
	}
	return joinLines(wrapIndented(st.Muted, text, 1, w)), true
}

// groupDigits writes n with thousands separated: 1,234,567.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
