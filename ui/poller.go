package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/poll"
)

// previewOverlap is the poller's default query overlap: each query
// reaches this far behind the since time, and dedupe drops what it brings
// twice.
const previewOverlap = poll.PreviewOverlap

type pollerMode int

// Poller editor modes: the resource rows, one resource's fields, and the
// raw JSON.
const (
	modeRows pollerMode = iota
	modeResource
	modeRaw
)

type pollerKeys struct {
	ListKeys
	Edit, Add, Remove, Reset, Raw, Save, PollNow, Done key.Binding
}

func newPollerKeys(l ListKeys) pollerKeys {
	return pollerKeys{
		ListKeys: l,
		Edit:     bind("enter e", "enter", "edit resource"),
		Add:      bind("a", "a", "add"),
		Remove:   bind("x delete", "x", "remove"),
		Reset:    bind("R", "R", "reset to defaults"),
		Raw:      bind("t", "t", "raw JSON"),
		Save:     bind("ctrl+s", "ctrl+s", "save"),
		PollNow:  bind("P", "P", "poll now"),
		Done:     bind("esc", "esc", "done"),
	}
}

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

// resourceFields are the editable fields of one resource, in order.
var resourceFields = []struct{ key, label, help string }{
	{"name", "Resource", "the hub resource name, e.g. contacts (the event's objectType)"},
	{"url", "URL", "hub URL (/hubs/crm/…?where=…) or a vendor path; ${date:FMT}, ${gmtDate:FMT}, ${epoch}… take the since time"},
	{"idField", "ID field", "dotted path of the record's id"},
	{"updatedDateField", "Updated field", "dotted path of the record's last-change date"},
	{"updatedDateFormat", "Updated format", "Java date pattern (yyyy-MM-dd'T'HH:mm:ssXXX) or milliseconds"},
	{"updatedDateTimezone", "Updated zone", "IANA zone of dates without an offset (default UTC)"},
	{"createdDateField", "Created field", "dotted path of the creation date (CREATED vs UPDATED)"},
	{"createdDateFormat", "Created format", "Java date pattern or milliseconds"},
	{"createdDateTimezone", "Created zone", "IANA zone"},
	{"pageSize", "Page size", "records per request (vendor default when empty)"},
	{"pollDelay", "Poll delay (s)", "seconds subtracted from the since time, for vendors that index late"},
}

// pollerScreen edits an instance's event.poller.configuration with a
// preview of each resource's next request.
type pollerScreen struct {
	ctx      *Context
	id       int
	instID   int64
	keys     pollerKeys
	in       model.Instance
	polls    map[string]model.PollStatus
	loaded   bool
	err      error
	rows     []pollerRow
	filter   filterBox
	table    tableView
	mode     pollerMode
	fields   []formField
	focus    int
	editing  int // row being edited in modeResource, -1 for a new one
	fieldErr string
	raw      textEditor
	// rawFrom are the rows as they were when raw mode opened: discarding
	// the raw edits goes back to them.
	rawFrom  []pollerRow
	rawProbs []model.Problem
	rawOK    bool
	problems []model.Problem
	initial  string
	saving   bool
	confirm  confirmDialog
	w, h     int
}

func newPollerScreen(ctx *Context, instID int64) *pollerScreen {
	s := &pollerScreen{ctx: ctx, id: ctx.newID(), instID: instID, keys: newPollerKeys(ctx.List), raw: newTextEditor(), polls: map[string]model.PollStatus{}, filter: newFilterBox()}
	s.table.cols = []column{
		{title: "RESOURCE", width: 13},
		{title: "URL", width: 20, flex: 1},
		{title: "ID FIELD", width: 8},
		{title: "UPDATED FIELD", width: 13},
		{title: "CREATED FIELD", width: 13},
	}
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

// visible are the indexes of the rows the filter lets through, in order;
// the table's cursor indexes this list.
func (s *pollerScreen) visible() []int {
	q := s.filter.Query()
	out := make([]int, 0, len(s.rows))
	for i, r := range s.rows {
		if matchAll(q, r.name, r.r.URL, r.r.IDField, r.r.Dates.UpdatedDateField, r.r.Dates.CreatedDateField) {
			out = append(out, i)
		}
	}
	return out
}

// current is the index in rows of the row under the cursor.
func (s *pollerScreen) current() (int, bool) {
	vis := s.visible()
	if len(vis) == 0 {
		return 0, false
	}
	return vis[clamp(s.table.cursor, 0, len(vis)-1)], true
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

// revalidate checks the rows with the model's parser, the one saving uses.
func (s *pollerScreen) revalidate() {
	_, s.problems = model.ParsePollerConfig([]byte(configJSON(s.rows, false)))
}

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
			s.revalidate()
		}
		return nil
	case pollerSavedMsg:
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
			s.mode = modeRows
		}
		s.initial = configJSON(s.rows, false)
		s.revalidate()
		return toast(toastOK, fmt.Sprintf("saved the poller configuration of #%d (%d resources)", msg.in.ID, len(s.rows)))
	case tea.MouseMsg:
		if s.mode == modeRows {
			switch msg.Button {
			case tea.MouseButtonWheelUp:
				s.table.cursor--
			case tea.MouseButtonWheelDown:
				s.table.cursor++
			}
			s.table.cursor = clamp(s.table.cursor, 0, len(s.visible())-1)
		}
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
		switch s.mode {
		case modeResource:
			return s.resourceKey(msg)
		case modeRaw:
			return s.rawKey(msg)
		}
		return s.rowsKey(msg)
	}
	return nil
}

// Cancel: esc in the rows asks before dropping unsaved changes.
func (s *pollerScreen) Cancel() (bool, tea.Cmd) {
	if s.confirm.active {
		s.confirm.active = false
		return true, nil
	}
	if s.mode == modeRows && s.filter.Cancel() {
		s.table.cursor = 0
		return true, nil
	}
	if s.dirty() {
		s.confirm.ask("Discard the unsaved poller changes?", func() tea.Cmd { return s.ctx.pop() })
		return true, nil
	}
	return false, nil
}

func (s *pollerScreen) rowsKey(msg tea.KeyMsg) tea.Cmd {
	if s.filter.Typing() {
		if s.filter.Update(msg) {
			s.table.cursor = 0
		}
		return nil
	}
	k := s.keys
	if c, ok := k.move(msg, s.table.cursor, len(s.visible()), s.table.rows()); ok {
		s.table.cursor = c
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		s.filter.Start()
	case key.Matches(msg, k.Save):
		return s.save(configJSON(s.rows, false))
	case key.Matches(msg, k.Edit):
		if i, ok := s.current(); ok {
			s.openResource(i)
		}
	case key.Matches(msg, k.Add):
		s.openResource(-1)
	case key.Matches(msg, k.Remove):
		if i, ok := s.current(); ok {
			name := s.rows[i].name
			s.rows = append(s.rows[:i], s.rows[i+1:]...)
			s.table.cursor = clamp(s.table.cursor, 0, len(s.visible())-1)
			s.revalidate()
			return toast(toastInfo, "removed "+name+" — ctrl+s saves, esc discards")
		}
	case key.Matches(msg, k.Reset):
		el, _ := s.in.Element()
		s.confirm.ask(fmt.Sprintf("Replace the resources with %s's defaults (%s)?", el.Name, defaultNames(el)), func() tea.Cmd {
			pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
			s.rows = rowsFrom(pc)
			s.table.cursor = 0
			s.revalidate()
			return toast(toastInfo, "reset to the defaults — ctrl+s saves")
		})
	case key.Matches(msg, k.Raw):
		s.mode = modeRaw
		s.rawFrom = append([]pollerRow(nil), s.rows...)
		s.raw.SetValue(configJSON(s.rows, true))
		s.checkRaw()
	case key.Matches(msg, k.PollNow):
		if s.dirty() {
			return toast(toastError, "save first (ctrl+s): a poll uses the stored configuration")
		}
		cmd, text := pollNow(s.ctx, s.in)
		if text == "" {
			return cmd
		}
		return tea.Batch(toast(toastInfo, text), cmd)
	}
	return nil
}

func defaultNames(el model.Element) string {
	pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
	return strings.Join(pc.Resources(), ", ")
}

// openResource edits row i, or a new resource for i < 0.
func (s *pollerScreen) openResource(i int) {
	s.mode, s.editing, s.focus, s.fieldErr = modeResource, i, 0, ""
	var row pollerRow
	if i >= 0 {
		row = s.rows[i]
	} else {
		row = s.newRow()
	}
	vals := map[string]string{
		"name": row.name, "url": row.r.URL, "idField": row.r.IDField,
		"updatedDateField": row.r.Dates.UpdatedDateField, "updatedDateFormat": row.r.Dates.UpdatedDateFormat, "updatedDateTimezone": row.r.Dates.UpdatedDateTimezone,
		"createdDateField": row.r.Dates.CreatedDateField, "createdDateFormat": row.r.Dates.CreatedDateFormat, "createdDateTimezone": row.r.Dates.CreatedDateTimezone,
	}
	if row.r.PageSize > 0 {
		vals["pageSize"] = strconv.Itoa(row.r.PageSize)
	}
	if row.r.PollDelay > 0 {
		vals["pollDelay"] = strconv.Itoa(row.r.PollDelay)
	}
	s.fields = s.fields[:0]
	for _, rf := range resourceFields {
		f := textField(rf.key, rf.label, rf.help, rf.key == "name" || rf.key == "url" || rf.key == "idField")
		f.setValue(vals[rf.key])
		s.fields = append(s.fields, f)
	}
}

// newRow starts from the element's first default resource, so the date
// settings are already right for the vendor.
func (s *pollerScreen) newRow() pollerRow {
	el, _ := s.in.Element()
	pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
	name := s.freeResourceName(el)
	r := model.PollerResource{IDField: "id"}
	if names := pc.Resources(); len(names) > 0 {
		// The first default resource is the template: same dates, the
		// URL pointed at the new resource.
		r = pc[names[0]]
		r.URL = strings.Replace(r.URL, "/"+names[0], "/"+name, 1)
	}
	return pollerRow{name: name, r: r}
}

// freeResourceName is the first of the element's hub resources (in name
// order) the configuration lacks, else "resource" numbered to be unique.
func (s *pollerScreen) freeResourceName(el model.Element) string {
	taken := map[string]bool{}
	for _, r := range s.rows {
		taken[r.name] = true
	}
	hub := make([]string, 0, len(el.HubResources))
	for res := range el.HubResources {
		hub = append(hub, res)
	}
	sort.Strings(hub)
	for _, res := range hub {
		if !taken[res] {
			return res
		}
	}
	for n := 2; ; n++ {
		if name := fmt.Sprintf("resource%d", n); !taken[name] {
			return name
		}
	}
}

func (s *pollerScreen) fieldValue(k string) string {
	for i := range s.fields {
		if s.fields[i].key == k {
			return s.fields[i].value()
		}
	}
	return ""
}

// editedRow reads the resource fields back, keeping settings the form
// does not show (filterByUpdatedDate and friends).
func (s *pollerScreen) editedRow() (pollerRow, error) {
	var row pollerRow
	if s.editing >= 0 {
		row = s.rows[s.editing]
	}
	row.name = s.fieldValue("name")
	r := &row.r
	r.URL, r.IDField = s.fieldValue("url"), s.fieldValue("idField")
	r.Dates = model.DatesConfig{
		UpdatedDateField: s.fieldValue("updatedDateField"), UpdatedDateFormat: s.fieldValue("updatedDateFormat"), UpdatedDateTimezone: s.fieldValue("updatedDateTimezone"),
		CreatedDateField: s.fieldValue("createdDateField"), CreatedDateFormat: s.fieldValue("createdDateFormat"), CreatedDateTimezone: s.fieldValue("createdDateTimezone"),
	}
	for _, n := range []struct {
		k   string
		dst *int
	}{{"pageSize", &r.PageSize}, {"pollDelay", &r.PollDelay}} {
		v := s.fieldValue(n.k)
		if v == "" {
			*n.dst = 0
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return row, fmt.Errorf("%s must be a whole number, got %q", n.k, v)
		}
		*n.dst = i
	}
	if row.name == "" {
		return row, errors.New("the resource needs a name")
	}
	for i, other := range s.rows {
		if other.name == row.name && i != s.editing {
			return row, fmt.Errorf("there is already a resource named %q", row.name)
		}
	}
	return row, nil
}

func (s *pollerScreen) resourceKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc", "enter", "ctrl+s":
		if msg.String() == "enter" && s.focus < len(s.fields)-1 {
			s.focus++
			return nil
		}
		row, err := s.editedRow()
		if err != nil {
			s.fieldErr = err.Error()
			return nil
		}
		if s.editing >= 0 {
			s.rows[s.editing] = row
		} else {
			s.rows = append(s.rows, row)
		}
		sort.Slice(s.rows, func(i, j int) bool { return s.rows[i].name < s.rows[j].name })
		s.selectRow(row.name)
		s.mode = modeRows
		s.revalidate()
		if msg.String() == "ctrl+s" {
			return s.save(configJSON(s.rows, false))
		}
		return nil
	case "tab", "down":
		s.focus = (s.focus + 1) % len(s.fields)
		return nil
	case "shift+tab", "up":
		s.focus = (s.focus + len(s.fields) - 1) % len(s.fields)
		return nil
	}
	s.fields[s.focus].update(msg)
	s.fieldErr = ""
	return nil
}

var lineColRe = regexp.MustCompile(`line (\d+), column (\d+)`)

// checkRaw parses the raw text as the model will; a syntax error marks its
// line in the editor.
func (s *pollerScreen) checkRaw() {
	data := model.StripJSONC([]byte(s.raw.Value()))
	pc, probs := model.ParsePollerConfig(data)
	s.rawProbs, s.rawOK = probs, pc != nil
	s.raw.mark = 0
	for _, p := range probs {
		if m := lineColRe.FindStringSubmatch(p.Message); m != nil {
			s.raw.mark, _ = strconv.Atoi(m[1])
			break
		}
	}
	if pc != nil {
		// Keep the rows (and so the preview) in step with the text.
		s.rows = rowsFrom(pc)
		s.table.cursor = clamp(s.table.cursor, 0, len(s.visible())-1)
	}
}

// selectRow puts the cursor on the named row, clearing a filter that
// would hide it (a resource just renamed, say).
func (s *pollerScreen) selectRow(name string) {
	for range 2 {
		for vi, i := range s.visible() {
			if s.rows[i].name == name {
				s.table.cursor = vi
				return
			}
		}
		s.filter = newFilterBox()
	}
}

func (s *pollerScreen) rawKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		if !s.rawOK {
			// Broken JSON cannot become rows: offer to drop the raw
			// edits (n stays, to fix them or ctrl+z them away).
			s.confirm.ask("The JSON does not parse ("+firstProblem(s.rawProbs)+"). Discard the raw edits and go back to the rows as they were?", func() tea.Cmd {
				s.rows = append([]pollerRow(nil), s.rawFrom...)
				s.mode = modeRows
				s.table.cursor = clamp(s.table.cursor, 0, len(s.visible())-1)
				s.revalidate()
				return toast(toastInfo, "discarded the raw JSON edits")
			})
			return nil
		}
		s.mode = modeRows
		s.revalidate()
		return nil
	case "ctrl+s":
		if !s.rawOK {
			return toast(toastError, "not saved: "+firstProblem(s.rawProbs))
		}
		return s.save(configJSON(s.rows, false))
	}
	if s.raw.Update(msg) {
		s.checkRaw()
	}
	return nil
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

// save stores the configuration through the model's Patch, which
// validates it exactly as the API does.
func (s *pollerScreen) save(cfg string) tea.Cmd {
	if s.saving {
		return nil
	}
	s.saving = true
	st, sid, id := s.ctx.Backend, s.id, s.instID
	req := model.InstanceRequest{Configuration: map[string]json.RawMessage{model.KeyPollerConfiguration: json.RawMessage(cfg)}}
	return func() tea.Msg {
		in, err := st.PatchInstance(opCtx(), id, req)
		return pollerSavedMsg{addr: addr{sid}, in: in, err: err}
	}
}

// preview is the next request of one resource: its since time and the URL
// with every ${…} expanded.
type preview struct {
	since  time.Time
	source string
	url    string
	err    error
}

func (s *pollerScreen) preview(row pollerRow) preview {
	// The engine's preview computation, on the row being edited: the same
	// code the poller runs turns the hub URL into the vendor call.
	var sts []model.PollStatus
	if p, ok := s.polls[row.name]; ok {
		sts = []model.PollStatus{p}
	}
	pvs := poll.Preview(s.in, model.PollerConfig{row.name: row.r}, sts)
	if len(pvs) != 1 {
		return preview{url: "GET " + row.r.URL}
	}
	pv := preview{since: pvs[0].Since, source: pvs[0].SinceFrom, url: pvs[0].Request}
	if pvs[0].Error != "" {
		pv.err = errors.New(pvs[0].Error)
	}
	return pv
}

func (s *pollerScreen) previewLines(row pollerRow, w int, selected bool) []string {
	st := s.ctx.Styles
	pv := s.preview(row)
	name := st.Label.Render(pad(row.name, 14))
	if selected {
		name = st.Focused.Render(pad(row.name, 14))
	}
	lines := []string{" " + name + st.Muted.Render(truncate(fmt.Sprintf("since %s (%s, −%s overlap)", s.ctx.stamp(pv.since), pv.source, previewOverlap), w-16))}
	// Wrapped, not cut: the since parameter comes late in the query.
	for _, part := range wrapHard(pv.url, w-4, 3) {
		lines = append(lines, "   "+st.Info.Render(part))
	}
	if pv.err != nil {
		lines = append(lines, "   "+st.Error.Render(truncate("✗ "+pv.err.Error(), w-4)))
	} else if strings.HasPrefix(row.r.URL, "/hubs/") {
		lines = append(lines, "   "+st.Muted.Render(truncate("from "+row.r.URL+"; its where clause also filters every record", w-4)))
	}
	return lines
}

// rowProblems are the validation messages of one resource.
func (s *pollerScreen) rowProblems(name string) []string {
	prefix := "configuration." + model.KeyPollerConfiguration + "." + name
	var out []string
	for _, p := range s.problems {
		if p.Field == prefix || strings.HasPrefix(p.Field, prefix+".") {
			out = append(out, strings.TrimPrefix(strings.TrimPrefix(p.Field, prefix), ".")+": "+p.Message)
		}
	}
	return out
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
		body = s.rawView(w, h)
	case modeResource:
		body = s.resourceView(w, h)
	default:
		body = s.rowsView(w, h)
	}
	if s.confirm.active {
		body = s.confirm.Over(st, body, w, h)
	}
	return body
}

func (s *pollerScreen) header(w int) string {
	st := s.ctx.Styles
	mode := "polling every " + strconv.Itoa(int(s.in.RefreshInterval().Minutes())) + " min"
	if !s.in.Polling() {
		mode = "not polling now (events " + eventsMode(s.in) + ")"
	}
	return " " + st.Title.Render(truncate(fmt.Sprintf("#%d %s", s.in.ID, s.in.Name), w/2)) + st.Muted.Render(truncate(fmt.Sprintf("  %d resource(s) · %s", len(s.rows), mode), w/2))
}

func (s *pollerScreen) rowsView(w, h int) string {
	st := s.ctx.Styles
	lines := []string{s.header(w)}
	vis := s.visible()
	tableH := min(len(vis)+1, max(2, h/3))
	s.table.width, s.table.height = w, tableH
	switch {
	case len(s.rows) == 0:
		lines = append(lines, "", st.Muted.Render("  no resources — a adds one, R resets to the element's defaults"))
	case len(vis) == 0:
		lines = append(lines, "", st.Muted.Render("  no resource matches the filter — esc clears it"))
	default:
		lines = append(lines, s.table.render(st, len(vis), func(i int) []string {
			r := s.rows[vis[i]]
			name := r.name
			if len(s.rowProblems(r.name)) > 0 {
				name = "✗ " + name
			}
			return []string{name, r.r.URL, r.r.IDField, r.r.Dates.UpdatedDateField, r.r.Dates.CreatedDateField}
		}, func(i, c int, p string) string {
			if c == 0 && strings.HasPrefix(p, "✗") {
				return st.Error.Render(p)
			}
			return st.Row.Render(p)
		}))
	}
	if fl := s.filter.View(st, w); fl != "" {
		lines = append(lines, fl)
	}
	if cur, ok := s.current(); ok {
		sel := s.rows[cur]
		for _, p := range s.rowProblems(sel.name) {
			lines = append(lines, "  "+st.Error.Render(truncate("✗ "+p, w-3)))
		}
		// A preview computed for this moment, not a schedule: the poller's
		// own timer decides when the requests are really made.
		lines = append(lines, "", " "+st.Section.Render("Next requests")+st.Muted.Render("  if polled now ("+s.ctx.clock(s.ctx.Now())+")"))
		lines = append(lines, s.previewLines(sel, w, true)...)
		for _, i := range vis {
			if r := s.rows[i]; r.name != sel.name {
				lines = append(lines, s.previewLines(r, w, false)...)
			}
		}
	}
	return fitLines(joinLines(lines), w, h)
}

func (s *pollerScreen) resourceView(w, h int) string {
	st := s.ctx.Styles
	verb := "Edit resource"
	if s.editing < 0 {
		verb = "New resource"
	}
	lines := []string{" " + st.Title.Render(verb) + st.Muted.Render(fmt.Sprintf("  of #%d %s · enter next · esc done · ctrl+s save", s.in.ID, s.in.Name))}
	inputW := max(10, w-labelWidth-6)
	name := s.fieldValue("name")
	probs := map[string][]string{}
	for _, p := range s.rowProblems(name) {
		k, m, _ := strings.Cut(p, ": ")
		k = strings.TrimPrefix(k, "datesConfiguration.")
		probs[k] = append(probs[k], m)
	}
	for i := range s.fields {
		f := &s.fields[i]
		f.input.width = inputW
		label := st.Label.Render(pad(f.label, labelWidth))
		mark := fieldMark(st, i == s.focus, f.required)
		if i == s.focus {
			label = st.Focused.Render(pad(f.label, labelWidth))
		}
		lines = append(lines, " "+mark+label+" "+f.view(st, i == s.focus, true))
		for _, m := range probs[f.key] {
			lines = append(lines, spaces(labelWidth+4)+st.Error.Render(truncate("✗ "+m, w-labelWidth-5)))
		}
		if i == s.focus {
			lines = append(lines, spaces(labelWidth+4)+st.Muted.Render(truncate(f.help, w-labelWidth-5)))
		}
	}
	if s.fieldErr != "" {
		lines = append(lines, " "+st.Error.Render("✗ "+s.fieldErr))
	}
	if row, err := s.editedRow(); err == nil || row.name != "" {
		lines = append(lines, "", " "+st.Section.Render("Next request"))
		lines = append(lines, s.previewLines(row, w, true)...)
	}
	return fitLines(joinLines(lines), w, h)
}

func (s *pollerScreen) rawView(w, h int) string {
	st := s.ctx.Styles
	line, col := s.raw.Cursor()
	status := st.Muted.Render(fmt.Sprintf(" line %d, column %d · ctrl+z undo · esc back to rows · ctrl+s save", line, col))
	var msgs []string
	if len(s.rawProbs) == 0 {
		msgs = []string{" " + st.OK.Render("✓ valid") + st.Muted.Render(fmt.Sprintf(" — %d resource(s)", len(s.rows)))}
	}
	for i, p := range s.rawProbs {
		if len(msgs) >= 3 {
			msgs = append(msgs, " "+st.Error.Render(fmt.Sprintf("… and %d more", len(s.rawProbs)-i)))
			break
		}
		// Wrapped: a JSON error's line and column come last.
		wrapped := lipgloss.NewStyle().Width(max(10, w-4)).Render(problemText(p))
		for j, l := range strings.Split(wrapped, "\n") {
			lead := "   "
			if j == 0 {
				lead = " ✗ "
			}
			msgs = append(msgs, st.Error.Render(lead+strings.TrimRight(l, " ")))
		}
	}
	s.raw.width, s.raw.height = w, max(3, h-1-len(msgs))
	return fitLines(s.raw.View(st)+"\n"+joinLines(msgs)+"\n"+status, w, h)
}

func (s *pollerScreen) ShortHelp() []key.Binding {
	if s.confirm.active {
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	}
	k := s.keys
	switch s.mode {
	case modeResource:
		return []key.Binding{bind("tab", "tab/↓", "next"), bind("enter", "enter", "next/done"), bind("esc", "esc", "done"), k.Save}
	case modeRaw:
		return []key.Binding{bind("esc", "esc", "back to rows"), bind("ctrl+z", "ctrl+z", "undo"), k.Save}
	}
	return []key.Binding{k.Edit, k.Add, k.Remove, k.Reset, k.Raw, k.Save, k.PollNow}
}

func (s *pollerScreen) FullHelp() [][]key.Binding {
	k := s.keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Edit, k.Add, k.Remove, k.Reset}, {k.Raw, k.Save, k.PollNow, k.Done}}
}
