package ui

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
)

// detailRecent is how many events and deliveries the detail lists; the
// events and deliveries screens have the rest.
const detailRecent = 6

// disabledNote says what a disabled instance (CE's "disabled": true) does.
const disabledNote = `instance disabled: not polled; webhooks are still received and stored; notifications wait until it is enabled again (API: PATCH {"disabled": false})`

type detailKeys struct {
	instanceActions
	Top, Bottom key.Binding
}

func newDetailKeys() detailKeys {
	return detailKeys{
		instanceActions: newInstanceActions(),
		Top:             bind("g home", "g", "top"),
		Bottom:          bind("G end", "G", "bottom"),
	}
}

type detailLoadedMsg struct {
	addr
	in     model.Instance
	polls  []model.PollStatus
	events []model.Event
	notes  []model.Notification
	lanes  []model.LaneStatus
	err    error
}

// detailScreen shows one instance: configuration, webhook URL and vendor
// setup, poller status, recent events and deliveries.
type detailScreen struct {
	ctx     *Context
	id      int
	instID  int64
	keys    detailKeys
	vp      viewport.Model
	confirm confirmDialog
	loaded  bool
	gone    bool
	err     error
	reveal  bool
	busy    string
	data    detailLoadedMsg
	w, h    int
}

func newDetailScreen(ctx *Context, instID int64) *detailScreen {
	return &detailScreen{ctx: ctx, id: ctx.newID(), instID: instID, keys: newDetailKeys(), vp: newScroller()}
}

func (s *detailScreen) ID() int { return s.id }
func (s *detailScreen) Title() string {
	if s.loaded {
		return fmt.Sprintf("#%d %s", s.data.in.ID, s.data.in.Name)
	}
	return fmt.Sprintf("#%d", s.instID)
}
func (s *detailScreen) Init() tea.Cmd    { return s.load() }
func (s *detailScreen) Refresh() tea.Cmd { return s.load() }
func (s *detailScreen) Capturing() bool  { return s.confirm.active }
func (s *detailScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.vp.Width, s.vp.Height = w, h
	s.render()
}

func (s *detailScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	return false, nil
}

func (s *detailScreen) Status() string {
	if s.busy != "" {
		return s.busy
	}
	if s.reveal {
		return "secrets shown"
	}
	return ""
}

func (s *detailScreen) load() tea.Cmd {
	st, sid, id, reveal := s.ctx.Backend, s.id, s.instID, s.reveal
	return func() tea.Msg {
		m := detailLoadedMsg{addr: addr{sid}}
		get := st.Instance
		if reveal {
			// An engine elsewhere answers secrets masked, except when asked
			// explicitly.
			get = st.RevealInstance
		}
		if m.in, m.err = get(opCtx(), id); m.err != nil {
			return m
		}
		m.polls, _ = st.PollStatuses(opCtx(), id)
		m.events, _, _ = st.Events(opCtx(), model.EventFilter{InstanceID: id}, detailRecent)
		m.notes, _, _ = st.Notifications(opCtx(), model.NotificationFilter{InstanceID: id}, detailRecent)
		m.lanes, _ = st.Lanes(opCtx())
		return m
	}
}

func (s *detailScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case detailLoadedMsg:
		if msg.err != nil {
			s.err = msg.err
			s.gone = errors.Is(msg.err, backend.ErrNotFound)
			s.render()
			return nil
		}
		s.data, s.loaded, s.err = msg, true, nil
		s.render()
	case webhookDoneMsg:
		s.busy = ""
		return tea.Batch(msg.toast(), s.load())
	case tea.MouseMsg:
		s.vp, _ = s.vp.Update(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

func (s *detailScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.confirm.active {
		return s.confirm.Update(msg)
	}
	k := s.keys
	switch {
	case key.Matches(msg, k.Top):
		s.vp.GotoTop()
		return nil
	case key.Matches(msg, k.Bottom):
		s.vp.GotoBottom()
		return nil
	}
	if !s.loaded {
		s.vp, _ = s.vp.Update(msg)
		return nil
	}
	if cmd, ok := runInstanceAction(s.ctx, s.site(), k.instanceActions, s.data.in, msg); ok {
		return cmd
	}
	s.vp, _ = s.vp.Update(msg)
	return nil
}

// site lets the shared instance actions act on this screen.
func (s *detailScreen) site() instanceSite {
	return instanceSite{sid: s.id, confirm: &s.confirm, busy: &s.busy,
		reveal: func() tea.Cmd {
			s.reveal = !s.reveal
			s.render()
			return s.load()
		},
		// Deleted: back to where the detail was opened from.
		deleted: func() { s.ctx.pop() },
	}
}

// render rebuilds the viewport content; the view itself only slices it.
func (s *detailScreen) render() {
	st := s.ctx.Styles
	switch {
	case s.err != nil && s.gone:
		s.vp.SetContent(st.Error.Render(fmt.Sprintf(" there is no instance #%d (deleted, or never created) — esc goes back", s.instID)))
		return
	case s.err != nil:
		s.vp.SetContent(st.Error.Render(" cannot read the instance: " + s.err.Error()))
		return
	case !s.loaded:
		s.vp.SetContent(st.Muted.Render(" loading…"))
		return
	}
	in := s.data.in
	w := max(20, s.w)
	var b strings.Builder
	line := func(parts ...string) { b.WriteString(strings.Join(parts, "") + "\n") }
	section := func(title, hint string) {
		line("")
		h := st.Section.Render(title)
		if hint != "" {
			h += "  " + st.Muted.Render(hint)
		}
		line(" " + h)
	}
	wrap := func(indent int, text string) {
		for _, l := range strings.Split(lipgloss.NewStyle().Width(max(10, w-indent-1)).Render(text), "\n") {
			line(spaces(indent) + strings.TrimRight(l, " "))
		}
	}
	el, _ := in.Element()
	state := instanceState(in, false)
	line(" " + st.Title.Render(fmt.Sprintf("#%d %s", in.ID, in.Name)) + st.Muted.Render("  "+el.Name+" ("+in.ElementKey+") · events ") +
		st.Value.Render(eventsMode(in)) + st.Muted.Render(" · ") + st.stateStyle(state).Render(state))
	meta := "created " + s.ctx.stamp(in.CreatedAt)
	if len(in.Tags) > 0 {
		meta = "tags " + strings.Join(in.Tags, ", ") + " · " + meta
	}
	line(" " + st.Muted.Render(meta))
	if in.NotificationsOff != "" {
		line(" " + st.Error.Render("callbacks stopped: "+in.NotificationsOff+" (saving the instance with events enabled turns them back on)"))
	}
	if in.Disabled {
		wrap(1, st.Warn.Render(disabledNote))
	}
	for _, t := range laneTrouble(s.ctx, s.data.lanes, in.ID) {
		wrap(1, st.Warn.Render("⚠ deliveries "+t))
	}

	section("Webhook URL", "y copy · w register · W unregister")
	line("  " + st.Info.Render(webhookURL(s.ctx, in)))
	if sub := in.Configuration[model.KeyWebhookID]; sub != "" {
		line("  " + st.OK.Render("registered with "+el.Name) + st.Muted.Render(" (subscription "+sub+")"))
	} else {
		line("  " + st.Muted.Render("not registered with "+el.Name+" by eventdesk"))
	}
	for _, l := range setupSteps(in) {
		wrap(2, st.Muted.Render(l))
	}

	section("Configuration", "x reveal secrets · e edit")
	keys := make([]string, 0, len(in.Configuration))
	kw := 0
	for k := range in.Configuration {
		keys = append(keys, k)
		kw = max(kw, len(k))
	}
	sort.Strings(keys)
	kw = min(kw, 36)
	for _, k := range keys {
		v := in.Configuration[k]
		var shown string
		switch {
		case k == model.KeyPollerConfiguration:
			n := 0
			if pc, err := in.Poller(); err == nil {
				n = len(pc)
			}
			shown = st.Muted.Render(fmt.Sprintf("%d resource(s) — p edits", n))
		case k == model.KeyCallbackHeaders && v != "" && !s.reveal:
			shown = st.Secret.Render(model.MaskCallbackHeaders(v)) // names stay readable
		case model.IsSecretKey(in.ElementKey, k) && v != "" && !s.reveal:
			shown = st.Secret.Render(model.Mask)
		case v == "":
			shown = st.Muted.Render(`""`)
		default:
			shown = st.Value.Render(v)
		}
		line("  " + st.Label.Render(pad(k, kw)) + "  " + shown)
	}

	section("Poller", fmt.Sprintf("every %d min · p edit · P poll now", int(in.RefreshInterval().Minutes())))
	pc, perr := in.Poller()
	switch {
	case perr != nil:
		line("  " + st.Error.Render(perr.Error()))
	case len(pc) == 0:
		line("  " + st.Muted.Render("no poller configuration"))
	default:
		switch {
		case in.Disabled:
			line("  " + st.Muted.Render("not polling: the instance is disabled"))
		case !in.Polling():
			line("  " + st.Muted.Render("not polling: events are "+map[bool]string{true: "webhook-driven", false: "disabled"}[in.EventsEnabled()]))
		}
		polls := map[string]model.PollStatus{}
		for _, p := range s.data.polls {
			polls[p.Resource] = p
		}
		for _, res := range pc.Resources() {
			p, ok := polls[res]
			var status string
			var failure []string
			switch {
			case !ok || p.LastStart.IsZero():
				status = st.Muted.Render("never polled")
			case p.LastError != "":
				// The cause first and wrapped under the resource: the
				// request URL before it is long and would push it off.
				cause, during := causeFirst(p.LastError, nil)
				status = st.Error.Render("failed " + s.ctx.ago(p.LastEnd))
				failure = wrapIndented(st.Error, cause, 17, w)
				if during != "" {
					failure = append(failure, wrapIndented(st.Muted, "while: "+during, 17, w)...)
				}
			default:
				status = st.OK.Render("ok") + st.Muted.Render(fmt.Sprintf(" %s · %d page(s), %d record(s), %d event(s)", s.ctx.ago(p.LastEnd), p.Pages, p.Records, p.Events))
			}
			if ok && !p.NextDue.IsZero() && in.Polling() {
				status += st.Muted.Render(" · next " + s.ctx.ago(p.NextDue))
			}
			line("  " + st.Label.Render(pad(res, 14)) + " " + status)
			for _, l := range failure {
				line(l)
			}
			if ok && p.LastURL != "" {
				line("  " + spaces(15) + st.Muted.Render("GET "+p.LastURL))
			}
			for _, warn := range p.Warnings {
				line("  " + spaces(15) + st.Warn.Render("warning: "+warn))
			}
		}
	}

	section("Recent events", "E all events of this instance")
	if len(s.data.events) == 0 {
		line("  " + st.Muted.Render("none yet"))
	}
	for _, e := range s.data.events {
		line("  " + st.Muted.Render(pad(s.ctx.clock(e.ReceivedAt), 12)) + pad(string(e.Source), 8) + " " + pad(e.ObjectType, 14) + " " +
			pad(string(e.EventType), 8) + " " + truncate(e.ObjectID, 24))
	}

	section("Deliveries", "D all deliveries · R replay dead")
	cb := in.CallbackURL()
	if cb == "" {
		line("  " + st.Muted.Render("no callback URL: events are stored, nothing is sent"))
	} else {
		line("  " + st.Muted.Render("callback ") + st.Value.Render(cb))
	}

	for _, n := range s.data.notes {
		line("  " + deliveryLine(s.ctx, n))
	}
	content := strings.TrimRight(b.String(), "\n")
	s.vp.SetContent(content)
}

// deliveryLine is one notification in a sentence.
func deliveryLine(ctx *Context, n model.Notification) string {
	st := ctx.Styles
	state := string(n.State)
	s := st.Muted.Render(pad("#"+n.ID, 7)) + " " + st.stateStyle(state).Render(pad(state, 9)) + " " +
		st.Muted.Render(fmt.Sprintf("%d event(s) · %d tr", len(n.EventIDs), n.Tries()))
	if n.Tries() == 1 {
		s += st.Muted.Render("y")
	} else {
		s += st.Muted.Render("ies")
	}
	if n.LastStatus != 0 {
		s += st.Muted.Render(fmt.Sprintf(" · last %d", n.LastStatus))
	}
	if n.LastError != "" {
		s += st.Error.Render(" · " + n.LastError)
	}
	if n.State == model.StatePending {
		s += st.Muted.Render(" · next " + nextTry(ctx, n))
	}
	return s
}

// setupSteps tells how to point the vendor at the webhook URL by hand.
func setupSteps(in model.Instance) []string {
	switch in.ElementKey {
	case "pipedrive":
		s := []string{"Pipedrive: Settings › Webhooks (Tools and apps › Webhooks) › Create new webhook: event action *, event object *, endpoint URL = the URL above."}
		if in.Configuration[model.KeyWebhookUsername] != "" {
			s = append(s, "HTTP Auth: username and password = event.webhook.username / event.webhook.password (x shows them).")
		} else {
			s = append(s, "Optional HTTP Auth: set event.webhook.username/password on the instance first; the listener then demands them.")
		}
		return append(s, "Or press w: eventdesk creates the webhook through Pipedrive's API (POST /v1/webhooks, version 2.0) with generated credentials.")
	case "closeio":
		return []string{
			"Close: webhooks are an API subscription (there is no settings page): POST /api/v1/webhook/ with this URL and the lead, contact and opportunity events.",
			"Press w and eventdesk subscribes for you and stores the signature_key Close returns (event.webhook.signature.key), so every delivery's close-sig-hash is checked.",
		}
	}
	return nil
}

func (s *detailScreen) View() string {
	if s.confirm.active {
		return s.confirm.Over(s.ctx.Styles, s.vp.View(), s.w, s.h)
	}
	return s.vp.View()
}

func (s *detailScreen) ShortHelp() []key.Binding {
	if s.confirm.active {
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	}
	k := s.keys
	return []key.Binding{k.Copy, k.Reveal, k.Edit, k.Delete, k.Poller, k.PollNow, k.Register, k.Events, k.Deliveries}
}

func (s *detailScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return append([][]key.Binding{append(scrollHelp(), k.Top, k.Bottom)}, k.help()...)
}
