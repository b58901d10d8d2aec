package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// labelWidth is the form's label column.
const labelWidth = 16

type formKeys struct {
	Save, Reveal, Import, Cancel key.Binding
}

// formFieldKeys move through the form's fields.
func formFieldKeys() fieldKeys {
	return fieldKeys{
		Next:  bind("tab down", "tab/↓", "next field"),
		Prev:  bind("shift+tab up", "shift+tab/↑", "previous"),
		Enter: bind("enter", "enter", "next / save on the last field"),
	}
}

func newFormKeys() formKeys {
	return formKeys{
		Save:   bind("ctrl+s", "ctrl+s", "save"),
		Reveal: bind("ctrl+r", "ctrl+r", "reveal secrets"),
		Import: bind("ctrl+o", "ctrl+o", "import instance.json"),
		Cancel: bind("esc", "esc", "cancel"),
	}
}

type (
	formSavedMsg struct {
		addr
		in  model.Instance
		err error
	}
	formImportMsg struct {
		addr
		path string
		data []byte
		err  error
	}
	// selectInstanceMsg puts the instances list's cursor on a new instance.
	selectInstanceMsg struct{ id int64 }
)

// formScreen creates or edits an instance. Validation is the model's: all
// problems come back at once and each shows under its field.
type formScreen struct {
	fieldList
	ctx     *Context
	id      int
	keys    formKeys
	edit    *model.Instance // nil when creating
	el      model.Element
	offset  int
	reveal  bool
	saving  bool
	initial string
	// extra are configuration keys from an imported file that have no
	// field here (poller configuration, callback headers…); they are saved
	// as given.
	extra     map[string]json.RawMessage
	problems  *model.ValidationError
	unplaced  []string
	confirm   confirmDialog
	importing bool
	path      lineInput
	w, h      int
}

// newFormScreen opens the form; edit is the instance to edit, or nil.
func newFormScreen(ctx *Context, edit *model.Instance) *formScreen {
	s := &formScreen{ctx: ctx, id: ctx.newID(), keys: newFormKeys(), edit: edit, extra: map[string]json.RawMessage{}, path: newLineInput("path of the file (enter alone: instance.json)")}
	s.fieldList = newFieldList(formFieldKeys(), false, s.validate)
	if edit != nil {
		s.el, _ = edit.Element()
		s.fields = elementFields(s.el, false)
		s.prefill(*edit)
	} else {
		s.el = model.Elements()[0]
		s.fields = elementFields(s.el, true)
	}
	s.initial = s.snapshot()
	return s
}

// prefill shows a stored instance; secrets stay in the store.
func (s *formScreen) prefill(in model.Instance) {
	for i := range s.fields {
		f := &s.fields[i]
		switch f.key {
		case fieldName:
			f.setValue(in.Name)
		case fieldTags:
			f.setValue(strings.Join(in.Tags, ", "))
		default:
			v, ok := in.Configuration[f.key]
			if !ok {
				continue
			}
			if f.kind == fieldSecret && v != "" {
				f.masked = true
				continue
			}
			if f.key == model.KeyCallbackHeaders {
				// Header values are credentials as often as not: the form
				// shows the names, and a value left "********" keeps the
				// stored one when saved.
				v = model.MaskCallbackHeaders(v)
			}
			if f.key == model.KeyBaseURL && v == s.el.Defaults[model.KeyBaseURL] {
				continue // the placeholder says it
			}
			f.setValue(v)
		}
	}
	if in.Configuration[model.KeyVendorType] == "" {
		s.field(model.KeyVendorType).setValue(in.VendorType())
	}
}

func (s *formScreen) ID() int { return s.id }
func (s *formScreen) Title() string {
	if s.edit != nil {
		return fmt.Sprintf("Edit #%d", s.edit.ID)
	}
	return "New instance"
}
func (s *formScreen) Init() tea.Cmd    { return nil }
func (s *formScreen) SetSize(w, h int) { s.w, s.h = w, h }

// Capturing: a text field types every key, so '?', ':' and 'q' are its
// own; on a switch or a choice they reach the root ('?' shows help).
func (s *formScreen) Capturing() bool {
	if s.confirm.active || s.importing || len(s.fields) == 0 {
		return true
	}
	k := s.fields[s.focus].kind
	return k != fieldToggle && k != fieldChoice
}

func (s *formScreen) Status() string {
	switch {
	case s.saving:
		return "saving…"
	case s.dirty():
		return "unsaved changes"
	}
	return ""
}

// snapshot is the form's content, for the unsaved-changes check.
func (s *formScreen) snapshot() string {
	var b strings.Builder
	for _, f := range s.fields {
		b.WriteString(f.key + "=" + f.value() + "\x00")
	}
	keys := make([]string, 0, len(s.extra))
	for k := range s.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + string(s.extra[k]) + "\x00")
	}
	return b.String()
}

func (s *formScreen) dirty() bool { return s.snapshot() != s.initial }

// Cancel is esc: close the dialog or import prompt, else leave — asking
// first when there are unsaved changes.
func (s *formScreen) Cancel() (bool, tea.Cmd) {
	switch {
	case s.confirm.active:
		s.confirm.active = false
		return true, nil
	case s.importing:
		s.importing = false
		return true, nil
	case s.dirty():
		s.confirm.ask("Discard your unsaved changes?", func() tea.Cmd { return s.ctx.pop() })
		return true, nil
	}
	return false, nil
}

func (s *formScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case formSavedMsg:
		s.saving = false
		return s.saved(msg)
	case formImportMsg:
		return s.imported(msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

func (s *formScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.confirm.active {
		return s.confirm.Update(msg)
	}
	if msg.Type == tea.KeyEsc {
		if done, cmd := s.Cancel(); done {
			return cmd
		}
		return s.ctx.pop()
	}
	if s.importing {
		if msg.Type == tea.KeyEnter {
			s.importing = false
			p := strings.TrimSpace(s.path.Value())
			if p == "" {
				p = "instance.json"
			}
			return s.readFile(p)
		}
		s.path.Update(msg)
		return nil
	}
	k := s.keys
	switch {
	case key.Matches(msg, k.Save):
		return s.save()
	case key.Matches(msg, k.Reveal):
		s.reveal = !s.reveal
		return nil
	case key.Matches(msg, k.Import):
		// Not prefilled: typing a path must not append to a default.
		// A path typed before stays, to correct it after a failed import.
		s.importing = true
		s.path.Focus()
		return nil
	}
	el := s.field(fieldElement).value()
	switch s.fieldList.Update(msg) {
	case fieldSubmit:
		return s.save()
	case fieldEdited:
		if now := s.field(fieldElement).value(); now != el {
			s.switchElement(now)
		}
	}
	return nil
}

// validate checks the form as the field list asks, after every edit once
// a save has shown problems, so a corrected field loses its stale error
// at once. It is the model's own validation, pure and the one the engine
// runs; the save still decides.
func (s *formScreen) validate() map[string][]string {
	req := s.request()
	now := s.ctx.Now()
	var err error
	if s.edit == nil {
		_, err = model.NewInstance(req, now)
	} else {
		_, err = s.edit.Patch(req, now)
	}
	var ve *model.ValidationError
	if !errors.As(err, &ve) {
		s.problems, s.unplaced = nil, nil
		return nil
	}
	return s.placeProblems(ve)
}

// switchElement rebuilds the fields for another element, keeping what was
// typed into fields both elements have.
func (s *formScreen) switchElement(k string) {
	el, ok := model.LookupElement(k)
	if !ok {
		return
	}
	old := map[string]formField{}
	for _, f := range s.fields {
		old[f.key] = f
	}
	s.el = el
	s.fields = elementFields(el, true)
	for i := range s.fields {
		f := &s.fields[i]
		if o, ok := old[f.key]; ok && f.key != fieldElement && o.kind == f.kind {
			f.input.SetValue(o.input.Value())
			f.on, f.choice = o.on, o.choice
		}
	}
	s.problems, s.unplaced = nil, nil
	s.clearErrors()
}

// request is the form as an API request: the same path the HTTP API and
// the command line take, so validation is identical everywhere.
func (s *formScreen) request() model.InstanceRequest {
	var req model.InstanceRequest
	cfg := map[string]json.RawMessage{}
	for k, v := range s.extra {
		cfg[k] = v
	}
	for i := range s.fields {
		f := &s.fields[i]
		switch f.key {
		case fieldElement:
			req.Element = &model.ElementRef{Key: f.value()}
		case fieldName:
			name := f.value()
			req.Name = &name
		case fieldTags:
			tags := []string{}
			for _, t := range strings.Split(f.value(), ",") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			req.Tags = &tags
		default:
			if f.masked {
				continue // unchanged secret: not sent, so kept
			}
			v := f.value()
			if v == "" {
				if s.edit != nil {
					if _, had := s.edit.Configuration[f.key]; had {
						cfg[f.key] = json.RawMessage("null") // removes it; defaults come back
					}
				}
				continue
			}
			q, _ := json.Marshal(v)
			cfg[f.key] = q
		}
	}
	req.Configuration = cfg
	return req
}

// save validates and stores in a command (the store is I/O).
func (s *formScreen) save() tea.Cmd {
	if s.saving {
		return nil
	}
	s.saving = true
	req := s.request()
	st, sid := s.ctx.Backend, s.id
	if s.edit == nil {
		return func() tea.Msg {
			in, err := st.CreateInstance(opCtx(), req)
			return formSavedMsg{addr: addr{sid}, in: in, err: err}
		}
	}
	id := s.edit.ID
	return func() tea.Msg {
		in, err := st.PatchInstance(opCtx(), id, req)
		return formSavedMsg{addr: addr{sid}, in: in, err: err}
	}
}

func (s *formScreen) saved(msg formSavedMsg) tea.Cmd {
	var ve *model.ValidationError
	switch {
	case errors.As(msg.err, &ve):
		s.showErrors(s.placeProblems(ve))
		s.focusError()
		return toast(toastError, fmt.Sprintf("not saved: %d problem(s), shown at their fields", len(ve.Problems)))
	case msg.err != nil:
		return toastErr("not saved", msg.err)
	}
	s.initial = s.snapshot()
	verb := "created"
	if s.edit != nil {
		verb = "saved"
	}
	id := msg.in.ID
	return tea.Sequence(pop, toast(toastOK, fmt.Sprintf("%s instance #%d %s", verb, id, msg.in.Name)),
		func() tea.Msg { return selectInstanceMsg{id} })
}

// placeProblems sorts the problems by field key; the rest (say, of an
// imported poller configuration) show above the form.
func (s *formScreen) placeProblems(ve *model.ValidationError) map[string][]string {
	s.problems, s.unplaced = ve, nil
	errs := map[string][]string{}
	for i := range s.fields {
		f := &s.fields[i]
		if m := ve.For(f.problemPath()); len(m) > 0 {
			errs[f.key] = m
		}
	}
	for _, p := range ve.Problems {
		placed := false
		for i := range s.fields {
			fp := s.fields[i].problemPath()
			if p.Field == fp || strings.HasPrefix(p.Field, fp+".") {
				placed = true
				break
			}
		}
		if !placed {
			s.unplaced = append(s.unplaced, p.String())
		}
	}
	return errs
}

// readFile reads an instance.json in a command.
func (s *formScreen) readFile(path string) tea.Cmd {
	sid := s.id
	return func() tea.Msg {
		p := strings.TrimSpace(path)
		if strings.HasPrefix(p, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				p = filepath.Join(home, p[2:])
			}
		}
		data, err := os.ReadFile(p)
		return formImportMsg{addr: addr{sid}, path: p, data: data, err: err}
	}
}

// imported fills the form from a seed-style instance.json; comments and
// trailing commas are tolerated (the Close seed has one).
func (s *formScreen) imported(msg formImportMsg) tea.Cmd {
	if msg.err != nil {
		return toastErr("import", msg.err)
	}
	clean := model.StripJSONC(msg.data)
	var req model.InstanceRequest
	if err := json.Unmarshal(clean, &req); err != nil {
		return toastErr("import "+filepath.Base(msg.path), model.JSONError(clean, err))
	}
	if req.Element != nil && req.Element.Key != "" {
		if s.edit == nil {
			ef := s.field(fieldElement)
			before := ef.value()
			ef.setValue(req.Element.Key)
			if ef.value() != req.Element.Key {
				return toast(toastError, fmt.Sprintf("import: unknown element %q; known: %s", req.Element.Key, strings.Join(model.ElementKeys(), ", ")))
			}
			if ef.value() != before {
				s.switchElement(ef.value())
			}
		} else if req.Element.Key != s.edit.ElementKey {
			return toast(toastError, fmt.Sprintf("import: the file is for %s, this instance is %s", req.Element.Key, s.edit.ElementKey))
		}
	}
	if req.Name != nil {
		s.field(fieldName).setValue(*req.Name)
	}
	if req.Tags != nil {
		s.field(fieldTags).setValue(strings.Join(*req.Tags, ", "))
	}
	filled, kept := 0, 0
	for k, raw := range req.Configuration {
		v, isNull, ok := configString(raw)
		if isNull {
			continue
		}
		f := s.fieldFor(k)
		if f != nil && !ok {
			// An object for a field that takes JSON text (callback
			// headers): the field shows it compact, and saves it.
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err == nil {
				v, ok = b.String(), true
			}
		}
		if f != nil && ok {
			f.setValue(v)
			delete(s.extra, k)
			filled++
			continue
		}
		s.extra[k] = raw
		kept++
	}
	s.problems, s.unplaced = nil, nil
	s.clearErrors()
	text := fmt.Sprintf("imported %s: %d field(s) filled", filepath.Base(msg.path), filled)
	if kept > 0 {
		text += fmt.Sprintf(", %d more configuration key(s) kept as given", kept)
	}
	return toast(toastOK, text+" — review and ctrl+s to save")
}

func (s *formScreen) fieldFor(k string) *formField {
	for i := range s.fields {
		if f := &s.fields[i]; f.key == k && k != fieldElement && k != fieldName && k != fieldTags {
			return f
		}
	}
	return nil
}

// configString reads a CE configuration value (string, bool, number) as
// the string the form shows.
func configString(raw json.RawMessage) (v string, isNull, ok bool) {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) == 0 || string(t) == "null":
		return "", true, true
	case t[0] == '"':
		if err := json.Unmarshal(t, &v); err != nil {
			return "", false, false
		}
		return v, false, true
	case t[0] == '{' || t[0] == '[':
		return "", false, false // objects stay raw in extra
	}
	return string(t), false, true
}

func (s *formScreen) View() string {
	st := s.ctx.Styles
	w, h := max(30, s.w), max(5, s.h)
	var lines []string
	head := " " + st.Title.Render(s.Title())
	if s.edit == nil {
		head += st.Muted.Render("  " + s.el.Name + " · required fields marked *")
	} else {
		// "name · element": names often carry brackets of their own.
		head += st.Muted.Render("  " + s.edit.Name + " · " + s.edit.ElementKey)
	}
	lines = append(lines, head)
	if s.problems != nil {
		lines = append(lines, " "+st.Error.Render(fmt.Sprintf("✗ %d problem(s) — nothing was saved", len(s.problems.Problems))))
		for _, u := range s.unplaced {
			lines = append(lines, wrapIndented(st.Error, "✗ "+u, 3, w)...)
		}
	}
	fields, focusTop, focusBottom := s.fieldList.View(st, w, s.reveal, s.requiredAlts())
	focusTop += len(lines)
	focusBottom += len(lines)
	lines = append(lines, fields...)
	if len(s.extra) > 0 {
		keys := make([]string, 0, len(s.extra))
		for k := range s.extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		lines = append(lines, " "+st.Muted.Render(truncate(fmt.Sprintf("+ %d more configuration key(s) from the file: %s", len(keys), strings.Join(keys, ", ")), w-2)))
	}
	bodyH := h
	if s.importing {
		bodyH--
	}
	// Keep the focused field, its errors and help in view.
	if focusBottom >= s.offset+bodyH {
		s.offset = focusBottom - bodyH + 1
	}
	if focusTop < s.offset {
		s.offset = focusTop
	}
	if s.focus == 0 {
		s.offset = 0
	}
	s.offset = clamp(s.offset, 0, max(0, len(lines)-bodyH))
	body := fitLines(joinLines(lines[s.offset:]), w, bodyH)
	if s.importing {
		s.path.width = max(10, w-24)
		body += "\n " + st.Prompt.Render("import file: ") + s.path.View(st)
	}
	if s.confirm.active {
		body = s.confirm.Over(st, body, w, h)
	}
	return body
}

func (s *formScreen) ShortHelp() []key.Binding {
	switch {
	case s.confirm.active:
		return []key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")}
	case s.importing:
		return []key.Binding{bind("enter", "enter", "import"), bind("esc", "esc", "cancel")}
	}
	k, n := s.keys, s.nav
	return []key.Binding{n.Next, n.Prev, k.Save, k.Import, k.Reveal, k.Cancel}
}

func (s *formScreen) FullHelp() [][]key.Binding {
	k, n := s.keys, s.nav
	return [][]key.Binding{{n.Next, n.Prev, n.Enter},
		{bind("space", "space ←/→", "toggle / choose"), k.Reveal}, {k.Save, k.Import, k.Cancel}}
}

// requiredAlts are the keys of the element's alternatives (RequiredAny)
// to star now, judged as validation will: the first complete alternative;
// else, once something is typed, the alternative closest to complete;
// while nothing is, every one of them (the section names the choice).
func (s *formScreen) requiredAlts() map[string]bool {
	sets := s.el.RequiredAny
	cfg := map[string]string{}
	for _, set := range sets {
		for _, k := range set {
			cfg[k] = s.field(k).value()
		}
	}
	best, given, complete := s.el.ClosestRequiredSet(cfg)
	out := map[string]bool{}
	for i, set := range sets {
		if i == best || given == 0 && !complete {
			for _, k := range set {
				out[k] = true
			}
		}
	}
	return out
}
