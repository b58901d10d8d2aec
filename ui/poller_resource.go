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

type resourceKeys struct {
	fieldKeys
	Done, Save key.Binding
}

func newResourceKeys() resourceKeys {
	return resourceKeys{
		fieldKeys: fieldKeys{
			Next:  bind("tab down", "tab/↓", "next"),
			Prev:  bind("shift+tab up", "shift+tab/↑", "previous"),
			Enter: bind("enter", "enter", "next/done"),
		},
		Done: bind("esc", "esc", "done"),
		Save: bind("ctrl+s", "ctrl+s", "save"),
	}
}

// resourceEditor edits one resource's fields, checked as the user types,
// with the preview of its next request under them.
type resourceEditor struct {
	ctx     *Context
	doc     *pollerDoc
	host    pollerHost
	preview pollerPreview
	keys    resourceKeys
	list    fieldList
	editing int // row being edited, -1 for a new one
}

func newResourceEditor(ctx *Context, doc *pollerDoc, host pollerHost, pv pollerPreview) resourceEditor {
	e := resourceEditor{ctx: ctx, doc: doc, host: host, preview: pv, keys: newResourceKeys()}
	e.list = newFieldList(e.keys.fieldKeys, true, nil)
	return e
}

// open edits row i, or a new resource for i < 0. The problems the row
// has show at once.
func (e *resourceEditor) open(i int) {
	e.editing = i
	var row pollerRow
	if i >= 0 {
		row = e.doc.rows[i]
	} else {
		row = e.newRow()
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
	fields := make([]formField, 0, len(resourceFields))
	for _, rf := range resourceFields {
		f := textField(rf.key, rf.label, rf.help, rf.key == "name" || rf.key == "url" || rf.key == "idField")
		f.setValue(vals[rf.key])
		fields = append(fields, f)
	}
	// Set here, not in newResourceEditor: e is now the editor inside the
	// screen, which stays put, so the check may keep a pointer to it.
	e.list.fields, e.list.focus, e.list.check = fields, 0, e.validate
	e.list.revalidate()
}

// newRow starts from the element's first default resource, so the date
// settings are already right for the vendor.
func (e *resourceEditor) newRow() pollerRow {
	el, _ := e.doc.in.Element()
	pc, _ := model.ParsePollerConfig([]byte(el.DefaultPoller))
	name := e.freeResourceName(el)
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
func (e *resourceEditor) freeResourceName(el model.Element) string {
	taken := map[string]bool{}
	for _, r := range e.doc.rows {
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

func (e *resourceEditor) fieldValue(k string) string { return e.list.field(k).value() }

// resourceError is a problem of one field that the model cannot see: it
// keys resources by name and reads numbers as numbers. It keeps the
// resource editor open.
type resourceError struct{ field, msg string }

// editedRow reads the resource fields back, keeping settings the editor
// does not show (filterByUpdatedDate and friends), and names the fields
// that cannot become a resource.
func (e *resourceEditor) editedRow() (pollerRow, []resourceError) {
	var row pollerRow
	if e.editing >= 0 {
		row = e.doc.rows[e.editing]
	}
	row.name = e.fieldValue("name")
	r := &row.r
	r.URL, r.IDField = e.fieldValue("url"), e.fieldValue("idField")
	r.Dates = model.DatesConfig{
		UpdatedDateField: e.fieldValue("updatedDateField"), UpdatedDateFormat: e.fieldValue("updatedDateFormat"), UpdatedDateTimezone: e.fieldValue("updatedDateTimezone"),
		CreatedDateField: e.fieldValue("createdDateField"), CreatedDateFormat: e.fieldValue("createdDateFormat"), CreatedDateTimezone: e.fieldValue("createdDateTimezone"),
	}
	var bad []resourceError
	if row.name == "" {
		bad = append(bad, resourceError{"name", "the resource needs a name"})
	}
	for i, other := range e.doc.rows {
		if other.name == row.name && i != e.editing {
			bad = append(bad, resourceError{"name", fmt.Sprintf("there is already a resource named %q", row.name)})
		}
	}
	for _, n := range []struct {
		k   string
		dst *int
	}{{"pageSize", &r.PageSize}, {"pollDelay", &r.PollDelay}} {
		v := e.fieldValue(n.k)
		if v == "" {
			*n.dst = 0
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			bad = append(bad, resourceError{n.k, fmt.Sprintf("%s must be a whole number, got %q", n.k, v)})
			continue
		}
		*n.dst = i
	}
	return row, bad
}

// validate is the field list's check: the editor's own errors, and the
// model's problems of the resource as typed, among the other rows.
func (e *resourceEditor) validate() map[string][]string {
	row, bad := e.editedRow()
	errs := map[string][]string{}
	for _, b := range bad {
		errs[b.field] = append(errs[b.field], b.msg)
	}
	if len(errs["name"]) > 0 {
		return errs // no name to check it under
	}
	rows := append([]pollerRow(nil), e.doc.rows...)
	if e.editing >= 0 {
		rows[e.editing] = row
	} else {
		rows = append(rows, row)
	}
	_, probs := model.ParsePollerConfig([]byte(configJSON(rows, false)))
	for _, p := range resourceProblems(probs, row.name) {
		k, m, _ := strings.Cut(p, ": ")
		k = strings.TrimPrefix(k, "datesConfiguration.")
		if e.list.field(k).key == "" {
			// A setting with no field here (raw mode edits it): shown
			// under the resource's name, the setting named.
			k, m = "name", strings.TrimPrefix(p, ": ")
		}
		errs[k] = append(errs[k], m)
	}
	return errs
}

// finish closes the resource back into the rows, and saves with save;
// a field that cannot become a resource keeps the editor open, with the
// focus on it.
func (e *resourceEditor) finish(save bool) tea.Cmd {
	row, bad := e.editedRow()
	if len(bad) > 0 {
		e.list.focusField(bad[0].field)
		return nil
	}
	doc := e.doc
	if e.editing >= 0 {
		doc.rows[e.editing] = row
	} else {
		doc.rows = append(doc.rows, row)
	}
	sort.Slice(doc.rows, func(i, j int) bool { return doc.rows[i].name < doc.rows[j].name })
	e.host.showRows(row.name)
	doc.revalidate()
	if save {
		return e.host.save()
	}
	return nil
}

func (e *resourceEditor) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, e.keys.Done):
		return e.finish(false)
	case key.Matches(km, e.keys.Save):
		return e.finish(true)
	}
	if e.list.Update(km) == fieldSubmit {
		return e.finish(false)
	}
	return nil
}

func (e *resourceEditor) View(w, h int) string {
	st, in := e.ctx.Styles, e.doc.in
	verb := "Edit resource"
	if e.editing < 0 {
		verb = "New resource"
	}
	lines := []string{" " + st.Title.Render(verb) + st.Muted.Render(fmt.Sprintf("  of #%d %s · enter next · esc done · ctrl+s save", in.ID, in.Name))}
	fields, _, _ := e.list.View(st, w, true, nil)
	lines = append(lines, fields...)
	if row, _ := e.editedRow(); row.name != "" {
		lines = append(lines, "", " "+st.Section.Render("Next request"))
		lines = append(lines, e.preview.View(row, w, true)...)
	}
	return fitLines(joinLines(lines), w, h)
}

func (e *resourceEditor) ShortHelp() []key.Binding {
	k := e.keys
	return []key.Binding{k.Next, k.Enter, k.Done, k.Save}
}

func (e *resourceEditor) FullHelp() [][]key.Binding {
	k := e.keys
	return [][]key.Binding{{k.Next, k.Prev, k.Enter}, {k.Done, k.Save}}
}
