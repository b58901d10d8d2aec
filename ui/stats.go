package ui

import (
	"strconv"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// statsEvery paces the status bar's reloads: counts walk bbolt buckets, and
// a flood of events must not turn into a flood of walks.
const statsEvery = 2 * time.Second

// rateWindow is the span of the events/min figure.
const rateWindow = time.Minute

// stats is the status bar: counts and the event rate. The engine fills
// the counts from store.Overview, which the metrics endpoint reads too, so
// the bar and a scrape never disagree: pending here is the metrics'
// pending+failing.
type stats struct {
	loaded                           bool
	instances                        int
	lastID                           uint64
	pending, failing, dead, rejected int
	perMin                           int
	err                              error
	samples                          []idSample
	inFlight                         bool
}

// idSample is the newest event id at a time: the difference of two samples
// is the number of events between them, with no scan of the events.
type idSample struct {
	at time.Time
	id uint64
}

type statsMsg struct {
	at                               time.Time
	instances                        int
	lastID                           uint64
	pending, failing, dead, rejected int
	// recent is the number of events in the last minute, counted once at
	// start so the rate is right before a minute of samples exists.
	recent int
	first  bool
	err    error
}

type statsTickMsg struct{}

func loadStats(ctx *Context, first bool) tea.Cmd {
	st := ctx.Backend
	now := ctx.Now()
	return func() tea.Msg {
		agg, err := st.Stats(opCtx())
		if err != nil {
			return statsMsg{err: err}
		}
		m := statsMsg{at: now, first: first, instances: agg.Instances, lastID: agg.LastEventID,
			pending: agg.Pending, failing: agg.Failing, dead: agg.Dead, rejected: agg.Rejected}
		if first {
			m.recent = agg.EventsLastMinute
		}
		return m
	}
}

func (s *stats) apply(m statsMsg) {
	s.inFlight = false
	if m.err != nil {
		s.err = m.err
		return
	}
	s.loaded, s.err = true, nil
	s.instances, s.lastID, s.pending, s.failing, s.dead, s.rejected = m.instances, m.lastID, m.pending, m.failing, m.dead, m.rejected
	if m.first {
		base := uint64(0)
		if m.lastID > uint64(m.recent) {
			base = m.lastID - uint64(m.recent)
		}
		s.samples = []idSample{{m.at.Add(-rateWindow), base}}
	}
	s.samples = append(s.samples, idSample{m.at, m.lastID})
	// Keep the newest sample at or before the window start, and all after.
	cut := m.at.Add(-rateWindow)
	for len(s.samples) > 2 && !s.samples[1].at.After(cut) {
		s.samples = s.samples[1:]
	}
	if base := s.samples[0]; m.lastID >= base.id {
		s.perMin = int(m.lastID - base.id)
	}
}

func (s *stats) View(st Styles, width int) string {
	if s.err != nil {
		return st.StatusBar.Render(pad(" store: "+s.err.Error(), width))
	}
	if !s.loaded {
		return st.StatusBar.Render(pad(" loading…", width))
	}
	part := func(n int, label string) string {
		return st.StatusNum.Render(strconv.Itoa(n)) + st.StatusBar.Render(" "+label)
	}
	sep := st.StatusBar.Render(" · ")
	line := st.StatusBar.Render(" ") + part(s.instances, "instances") + sep + part(s.perMin, "events/min") + sep +
		part(s.pending, "pending")
	if s.failing > 0 {
		line += sep + part(s.failing, "failing")
	}
	line += sep + part(s.dead, "dead") + sep + part(s.rejected, "rejected")
	return padStyled(st.StatusBar, line, width)
}

// padStyled fills a styled line to width with the style's background.
func padStyled(s interface{ Render(...string) string }, line string, width int) string {
	line = truncate(line, width)
	if w := lipglossWidth(line); w < width {
		line += s.Render(spaces(width - w))
	}
	return line
}
