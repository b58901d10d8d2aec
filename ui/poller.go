package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

type pollerMode int

// Poller editor modes: the resource rows, one resource's fields, and the
// raw JSON. Each is a sub-model of its own.
const (
	modeRows pollerMode = iota
	modeResource
	modeRaw
)

// pollerRow is one resource of the configuration.
type pollerRow struct {
	name string
	r    model.PollerResource
}

type (
	pollerLoadedMsg struct {
		addr
		in    model.Instance
		polls []model.PollStatus
		err   error
	}
	pollerSavedMsg struct {
		addr
		in  model.Instance
		err error
	}
)

// pollerDoc is the configuration being edited and what it is previewed
// and checked against. The screen owns it; every sub-model reads and
// changes it.
type pollerDoc struct {
	in    model.Instance
	polls map[string]model.PollStatus
	rows  []pollerRow
	// problems are the model's verdict on rows, kept in step by revalidate.
	problems []model.Problem
}

// revalidate checks the rows with the model's parser, the one saving uses.
func (d *pollerDoc) revalidate() {
	_, d.problems = model.ParsePollerConfig([]byte(configJSON(d.rows, false)))
}

// rowProblems are the validation messages of one resource.
func (d *pollerDoc) rowProblems(name string) []string {
	return resourceProblems(d.problems, name)
}

// resourceProblems are the messages of problems about one resource, each
// led by the setting it is about ("url: …").
func resourceProblems(probs []model.Problem, name string) []string {
	prefix := "configuration." + model.KeyPollerConfiguration + "." + name
	var out []string
	for _, p := range probs {
		if p.Field == prefix || strings.HasPrefix(p.Field, prefix+".") {
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(p.Field, prefix), ".")+": "+p.Message)
		}
	}
	return out
}

// pollerHost is the poller screen as its sub-models see it: they change
// the configuration themselves, and ask the screen to switch modes, save,
// or confirm.
type pollerHost interface {
	// editResource opens the resource editor on a row, or on a new
	// resource for row < 0.
	editResource(row int)
	editRaw()
	// showRows goes back to the rows, the cursor on the named resource
	// ("" leaves it where it was).
	showRows(name string)
	save() tea.Cmd
	ask(question string, yes func() tea.Cmd)
	dirty() bool
}

// pollerScreen edits an instance's event.poller.configuration with a
// preview of each resource's next request. It routes keys to the
// sub-model of the mode: the rows, the resource editor or the raw JSON
// editor. The parts are embedded, so the screen reads as one (s.rows,
// s.filter, s.rawOK); each part's Update, View and help are reached
// through its name.
type pollerScreen struct {
	pollerDoc
	pollerRows
	resourceEditor
	rawEditor
	ctx    *Context
	id     int
	instID int64
	mode   pollerMode
	loaded bool
	err    error
	// initial is the configuration as stored, for the unsaved-changes check.
	initial string
	saving  bool
	confirm confirmDialog
	w, h    int
}

func newPollerScreen(ctx *Context, instID int64) *pollerScreen {
	s := &pollerScreen{ctx: ctx, id: ctx.newID(), instID: instID, pollerDoc: pollerDoc{polls: map[string]model.PollStatus{}}}
	pv := pollerPreview{ctx: ctx, doc: &s.pollerDoc}
	s.pollerRows = newPollerRows(ctx, &s.pollerDoc, s, pv)
	s.resourceEditor = newResourceEditor(ctx, &s.pollerDoc, s, pv)
	s.rawEditor = newRawEditor(ctx, &s.pollerDoc, s)
	return s
}

func (s *pollerScreen) ID() int { return s.id }
func (s *pollerScreen) Title() string {
	switch s.mode {
	case modeRaw:
		return "Poller (raw JSON)"
	case modeResource:
		return "Poller › " + s.fieldValue("name")
	}
	return "Poller"
}
func (s *pollerScreen) Init() tea.Cmd    { return s.load() }
func (s *pollerScreen) SetSize(w, h int) { s.w, s.h = w, h }

// Capturing while a field, the raw editor or the filter has the keys.
func (s *pollerScreen) Capturing() bool {
	return s.mode != modeRows || s.confirm.active || s.filter.Typing()
}

func (s *pollerScreen) Status() string {
	switch {
	case s.filter.Active() && s.mode == modeRows:
		return fmt.Sprintf("%d of %d", len(s.visible()), len(s.rows))
	case s.saving:
		return "saving…"
	case s.dirty():
		return "unsaved changes · ctrl+s saves"
	}
	return ""
}

func (s *pollerScreen) load() tea.Cmd {
	st, sid, id := s.ctx.Backend, s.id, s.instID
	return func() tea.Msg {
		in, err := st.Instance(opCtx(), id)
		if err != nil {
			return pollerLoadedMsg{addr: addr{sid}, err: err}
		}
		polls, _ := st.PollStatuses(opCtx(), id)
		return pollerLoadedMsg{addr: addr{sid}, in: in, polls: polls}
	}
}

// rowsFrom turns a configuration into rows in name order.
func rowsFrom(pc model.PollerConfig) []pollerRow {
	rows := make([]pollerRow, 0, len(pc))
	for _, name := range pc.Resources() {
		rows = append(rows, pollerRow{name, pc[name]})
	}
	return rows
}

// configJSON renders rows as indented JSON without HTML escaping, so a
// where clause keeps its readable '>' instead of \u003e.
func configJSON(rows []pollerRow, indent bool) string {
	pc := model.PollerConfig{}
	for _, r := range rows {
		pc[r.name] = r.r
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	_ = enc.Encode(pc)
	return strings.TrimRight(b.String(), "\n")
}

// dirty compares the configuration as the model would store it, so
// switching to raw mode (indented text) is not a change by itself.
func (s *pollerScreen) dirty() bool {
	if !s.loaded {
		return false
	}
	if s.mode == modeRaw && !s.rawOK {
		return true
	}
	return configJSON(s.rows, false) != s.initial
}

func (s *pollerScreen) editResource(row int) {
	s.mode = modeResource
	s.resourceEditor.open(row)
}

func (s *pollerScreen) editRaw() {
	s.mode = modeRaw
	s.rawEditor.open()
}

func (s *pollerScreen) showRows(name string) {
	s.mode = modeRows
	s.pollerRows.show(name)
}

func (s *pollerScreen) ask(question string, yes func() tea.Cmd) { s.confirm.ask(question, yes) }

func (s *pollerScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pollerLoadedMsg:
		s.err = msg.err
		if msg.err != nil {
			return nil
		}
		s.polls = map[string]model.PollStatus{}
		for _, p := range msg.polls {
			s.polls[p.Resource] = p
		}
		first := !s.loaded
		s.in, s.loaded = msg.in, true
		if first {
			pc, _ := msg.in.Poller()
			s.rows = rowsFrom(pc)
			s.initial = configJSON(s.rows, false)
			s.pollerDoc.revalidate()
		}
		return nil
	case pollerSavedMsg:
		return s.saved(msg)
	case tea.KeyMsg:
		if s.confirm.active {
			return s.confirm.Update(msg)
		}
		if !s.loaded {
			if msg.Type == tea.KeyEsc {
				return s.ctx.pop()
			}
			return nil
		}
	}
	switch s.mode {
	case modeResource:
		return s.resourceEditor.Update(msg)
	case modeRaw:
		return s.rawEditor.Update(msg)
	}
	return s.pollerRows.Update(msg)
}

func (s *pollerScreen) saved(msg pollerSavedMsg) tea.Cmd {
	s.saving = false
	var ve *model.ValidationError
	switch {
	case errors.As(msg.err, &ve):
		s.problems = ve.Problems
		return toast(toastError, fmt.Sprintf("not saved: %d problem(s)", len(ve.Problems)))
	case msg.err != nil:
		return toastErr("not saved", msg.err)
	}
	s.in = msg.in
	pc, _ := msg.in.Poller()
	s.rows = rowsFrom(pc)
	if s.mode == modeRaw {
		s.showRows("")
	}
	s.initial = configJSON(s.rows, false)
	s.pollerDoc.revalidate()
	return toast(toastOK, fmt.Sprintf("saved the poller configuration of #%d (%d resources)", msg.in.ID, len(s.rows)))
}

// Cancel: esc in the rows asks before dropping unsaved changes.
func (s *pollerScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	if s.mode == modeRows && s.pollerRows.cancel() {
		return true, nil
	}
	if s.dirty() {
		s.confirm.ask("Discard the unsaved poller changes?", func() tea.Cmd { return s.ctx.pop() })
		return true, nil
	}
	return false, nil
}

// save stores the configuration through the model's Patch, which
// validates it exactly as the API does.
func (s *pollerScreen) save() tea.Cmd {
	if s.saving {
		return nil
	}
	s.saving = true
	st, sid, id := s.ctx.Backend, s.id, s.instID
	req := model.InstanceRequest{Configuration: map[string]json.RawMessage{model.KeyPollerConfiguration: json.RawMessage(configJSON(s.rows, false))}}
	return func() tea.Msg {
		in, err := st.PatchInstance(opCtx(), id, req)
		return pollerSavedMsg{addr: addr{sid}, in: in, err: err}
	}
}

func firstProblem(ps []model.Problem) string {
	if len(ps) == 0 {
		return ""
	}
	return problemText(ps[0])
}

// problemText drops the configuration key every poller problem starts
// with: the editor is already about it.
func problemText(p model.Problem) string {
	field := strings.TrimPrefix(strings.TrimPrefix(p.Field, "configuration."+model.KeyPollerConfiguration), ".")
	if field == "" {
		return p.Message
	}
	return field + ": " + p.Message
}

func (s *pollerScreen) View() string {
	st := s.ctx.Styles
	w, h := max(30, s.w), max(6, s.h)
	switch {
	case s.err != nil:
		return st.Error.Render(" cannot read the instance: " + s.err.Error())
	case !s.loaded:
		return st.Muted.Render(" loading…")
	}
	var body string
	switch s.mode {
	case modeRaw:
		body = s.rawEditor.View(w, h)
	case modeResource:
		body = s.resourceEditor.View(w, h)
	default:
		body = s.pollerRows.View(w, h)
	}
	if s.confirm.active {
		body = s.confirm.Over(st, body, w, h)
	}
	return body
}

func (s *pollerScreen) ShortHelp() []key.Binding {
	if s.confirm.active {
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	}
	switch s.mode {
	case modeResource:
		return s.resourceEditor.ShortHelp()
	case modeRaw:
		return s.rawEditor.ShortHelp()
	}
	return s.pollerRows.ShortHelp()
}

func (s *pollerScreen) FullHelp() [][]key.Binding {
	switch s.mode {
	case modeResource:
		return s.resourceEditor.FullHelp()
	case modeRaw:
		return s.rawEditor.FullHelp()
	}
	return s.pollerRows.FullHelp()
}
