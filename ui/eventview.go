package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

type eventLoadedMsg struct {
	addr
	e        model.Event
	note     *model.Notification
	attempts []model.Attempt
	err      error
}

type eventViewKeys struct {
	Replay, Copy, Top, Bottom key.Binding
}

// eventScreen shows one event: its fields, the raw payload as coloured,
// indented JSON, and the delivery of its notification attempt by attempt.
type eventScreen struct {
	ctx     *Context
	id      int
	eventID string
	keys    eventViewKeys
	vp      viewport.Model
	data    eventLoadedMsg
	loaded  bool
	pretty  string
	w, h    int
}

func newEventScreen(ctx *Context, eventID string) *eventScreen {
	return &eventScreen{ctx: ctx, id: ctx.newID(), eventID: eventID, vp: newScroller(), keys: eventViewKeys{
		Replay: bind("r", "r", "replay"),
		Copy:   bind("c", "c", "copy JSON"),
		Top:    bind("g home", "g", "top"),
		Bottom: bind("G end", "G", "bottom"),
	}}
}

func (s *eventScreen) ID() int          { return s.id }
func (s *eventScreen) Title() string    { return "Event " + s.eventID }
func (s *eventScreen) Init() tea.Cmd    { return s.load() }
func (s *eventScreen) Refresh() tea.Cmd { return s.load() }
func (s *eventScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.vp.Width, s.vp.Height = w, h
	s.render()
}

func (s *eventScreen) load() tea.Cmd {
	st, sid, id := s.ctx.Backend, s.id, s.eventID
	return func() tea.Msg {
		m := eventLoadedMsg{addr: addr{sid}}
		if m.e, m.err = st.Event(opCtx(), id); m.err != nil {
			return m
		}
		if n, err := st.NotificationOfEvent(opCtx(), id); err == nil {
			m.note = &n
			m.attempts, _ = st.Attempts(opCtx(), n.ID)
		}
		return m
	}
}

func (s *eventScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventLoadedMsg:
		first := !s.loaded
		s.data, s.loaded = msg, true
		if msg.err == nil && (first || s.pretty == "") {
			text, ok := prettyJSON(msg.e.Raw)
			if ok {
				text = colorJSON(s.ctx.Styles, text)
			}
			s.pretty = indent(text, " ")
		}
		s.render()
	case tea.MouseMsg:
		s.vp, _ = s.vp.Update(msg)
	case tea.KeyMsg:
		k := s.keys
		switch {
		case key.Matches(msg, k.Top):
			s.vp.GotoTop()
		case key.Matches(msg, k.Bottom):
			s.vp.GotoBottom()
		case key.Matches(msg, k.Copy):
			return copyEventJSON(s.ctx, s.eventID)
		case key.Matches(msg, copyCurl):
			return copyEventCurl(s.ctx, s.eventID)
		case (key.Matches(msg, historyKey) || key.Matches(msg, diffKey)) && s.loaded && s.data.err == nil:
			cmd, _ := historyOrDiff(s.ctx, msg, s.data.e)
			return cmd
		case key.Matches(msg, jumpInstance) && s.loaded && s.data.err == nil:
			return s.ctx.push(newDetailScreen(s.ctx, s.data.e.InstanceID))
		case key.Matches(msg, jumpNotification) && s.loaded:
			if s.data.note == nil {
				return toast(toastInfo, "this event has no notification (its instance had no callback then)")
			}
			return s.ctx.push(newDeliveryScreen(s.ctx, s.data.note.ID))
		case key.Matches(msg, k.Replay):
			if s.data.note == nil {
				return toast(toastError, "this event has no notification to replay (its instance had no callback then)")
			}
			return replayNotification(s.ctx, s.data.note.ID)
		default:
			s.vp, _ = s.vp.Update(msg)
		}
	}
	return nil
}

func (s *eventScreen) render() {
	st := s.ctx.Styles
	if !s.loaded {
		s.vp.SetContent(st.Muted.Render(" loading…"))
		return
	}
	if s.data.err != nil {
		s.vp.SetContent(st.Error.Render(" cannot read event " + s.eventID + ": " + s.data.err.Error()))
		return
	}
	e := s.data.e
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(" " + st.Label.Render(pad(label, 12)) + " " + st.Value.Render(value) + "\n")
	}
	b.WriteString(" " + st.Title.Render(fmt.Sprintf("%s %s %s", e.EventType, e.ObjectType, e.ObjectID)) + st.Muted.Render("  event "+e.ID) + "\n")
	field("instance", s.ctx.instanceLabel(e.InstanceID)+" · "+e.ElementKey+" · hub "+e.HubKey)
	field("source", string(e.Source))
	field("received", s.ctx.stamp(e.ReceivedAt))
	if !e.Date.IsZero() {
		field("changed", s.ctx.stamp(e.Date))
	}
	if !e.PollDate.IsZero() {
		field("poll", s.ctx.stamp(e.PollDate))
	}
	if e.VendorEventID != "" {
		field("vendor id", e.VendorEventID)
	}
	b.WriteString("\n " + st.Section.Render("Delivery") + "\n")
	if n := s.data.note; n == nil {
		b.WriteString("  " + st.Muted.Render("no notification: the instance had no callback URL or events off when this arrived") + "\n")
	} else {
		b.WriteString("  " + deliveryLine(s.ctx, *n) + "\n")
		for _, a := range s.data.attempts {
			b.WriteString("  " + attemptLine(s.ctx, a) + "\n")
		}
		if len(s.data.attempts) == 0 {
			b.WriteString("  " + st.Muted.Render("no attempt yet") + "\n")
		}
	}
	b.WriteString("\n " + st.Section.Render("Raw payload") + st.Muted.Render(fmt.Sprintf("  %d bytes · c copies", len(e.Raw))) + "\n")
	b.WriteString(s.pretty)
	s.vp.SetContent(b.String())
}

// latency is an attempt's duration to the millisecond; a faster one
// (a receiver on loopback) is "<1ms", not a misleading "0s".
func latency(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}

// attemptLine is one delivery attempt.
func attemptLine(ctx *Context, a model.Attempt) string {
	st := ctx.Styles
	status := st.Error.Render("error")
	if a.Status != 0 {
		style := st.OK
		if a.Status >= 300 {
			style = st.Error
		}
		status = style.Render(fmt.Sprint(a.Status))
	}
	s := st.Muted.Render(fmt.Sprintf("#%d %s ", a.N, ctx.clock(a.Time))) + status + st.Muted.Render(" "+latency(a.Latency))
	if a.Error != "" {
		s += st.Error.Render(" " + a.Error)
	}
	if a.Response != "" {
		s += st.Muted.Render(" — " + strings.Join(strings.Fields(a.Response), " "))
	}
	return s
}

func (s *eventScreen) View() string { return s.vp.View() }

func (s *eventScreen) ShortHelp() []key.Binding {
	k := s.keys
	return []key.Binding{k.Replay, k.Copy, jumpInstance, jumpNotification, bind("j", "↑↓/pgup/pgdn", "scroll")}
}

func (s *eventScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return [][]key.Binding{append(scrollHelp(), k.Top, k.Bottom), {k.Replay, k.Copy, copyCurl, jumpInstance, jumpNotification, historyKey, diffKey}}
}
