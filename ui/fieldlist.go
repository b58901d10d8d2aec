package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// fieldKeys move through a field list. Each editor names them in its own
// words (the form's "next field", the resource editor's "next"), so they
// come from the owner; the list matches keys with them.
type fieldKeys struct {
	Next, Prev key.Binding
	// Enter goes to the next field; on the last one the owner decides
	// (the form saves, the resource editor closes).
	Enter key.Binding
}

// fieldResult says what a key did to a field list.
type fieldResult int

// What a key did: nothing the list knows, moved the focus, changed the
// focused field's value, or was enter on the last field.
const (
	fieldIgnored fieldResult = iota
	fieldMoved
	fieldEdited
	fieldSubmit
)

// fieldList is a column of labelled fields with one focused: the instance
// form and the poller's resource editor are both one. It moves the focus,
// gives other keys to the focused field, and shows each field's
// validation errors under it, wrapped to the width. Once errors are shown
// it checks again after every edit, so a corrected field loses its error
// as the user types (the check is the model's pure validation).
type fieldList struct {
	fields []formField
	focus  int
	nav    fieldKeys
	// wrap makes the focus go round: next on the last field is the first.
	// Without it the focus stops at either end.
	wrap bool
	// check validates the fields as they are, returning messages by
	// field key.
	check func() map[string][]string
	// errs are the messages shown, by field key.
	errs map[string][]string
	// live is set once errors have been shown: every edit checks again.
	live bool
}

func newFieldList(nav fieldKeys, wrap bool, check func() map[string][]string) fieldList {
	return fieldList{nav: nav, wrap: wrap, check: check}
}

// field is the field with key k, or an empty one (never nil, so a caller
// may read a field the element does not have).
func (l *fieldList) field(k string) *formField {
	for i := range l.fields {
		if l.fields[i].key == k {
			return &l.fields[i]
		}
	}
	return &formField{}
}

// focused is the field with the focus.
func (l *fieldList) focused() *formField { return &l.fields[l.focus] }

// move shifts the focus by d fields.
func (l *fieldList) move(d int) {
	n := len(l.fields)
	if n == 0 {
		return
	}
	if l.wrap {
		l.focus = ((l.focus+d)%n + n) % n
		return
	}
	l.focus = clamp(l.focus+d, 0, n-1)
}

// Update applies a key: focus movement, enter, or an edit of the focused
// field (checked again at once once errors are showing).
func (l *fieldList) Update(msg tea.KeyMsg) fieldResult {
	if len(l.fields) == 0 {
		return fieldIgnored
	}
	switch {
	case key.Matches(msg, l.nav.Enter):
		if l.focus == len(l.fields)-1 {
			return fieldSubmit
		}
		l.move(1)
		return fieldMoved
	case key.Matches(msg, l.nav.Next):
		l.move(1)
		return fieldMoved
	case key.Matches(msg, l.nav.Prev):
		l.move(-1)
		return fieldMoved
	}
	if !l.focused().update(msg) {
		return fieldIgnored
	}
	if l.live {
		l.revalidate()
	}
	return fieldEdited
}

// showErrors shows errs under their fields and keeps checking after
// every edit from now on.
func (l *fieldList) showErrors(errs map[string][]string) {
	l.errs, l.live = errs, true
}

// revalidate runs the check and shows what it finds.
func (l *fieldList) revalidate() { l.showErrors(l.check()) }

// clearErrors hides the errors and stops checking until errors are shown
// again.
func (l *fieldList) clearErrors() { l.errs, l.live = nil, false }

// focusField moves the focus to the field with key k, if there is one.
func (l *fieldList) focusField(k string) {
	for i := range l.fields {
		if l.fields[i].key == k {
			l.focus = i
			return
		}
	}
}

// focusError moves the focus to the first field with an error, if any.
func (l *fieldList) focusError() {
	for i := range l.fields {
		if len(l.errs[l.fields[i].key]) > 0 {
			l.focus = i
			return
		}
	}
}

// View draws the fields in w cells: a section heading where one starts,
// the label with the focus marker and required star, the input, the
// field's errors (wrapped, never cut: people must read them) and the
// focused field's help. starred adds stars to fields that are not
// required on their own (the form's alternatives). focusTop and
// focusBottom are the lines of the focused field, for scrolling.
func (l *fieldList) View(st Styles, w int, reveal bool, starred map[string]bool) (lines []string, focusTop, focusBottom int) {
	inputW := max(10, w-labelWidth-6)
	for i := range l.fields {
		f := &l.fields[i]
		focused := i == l.focus
		if f.section != "" {
			lines = append(lines, " "+st.Section.Render(truncate(f.section, w-2)))
		}
		if focused {
			focusTop = len(lines)
		}
		label := st.Label.Render(pad(f.label, labelWidth))
		if focused {
			label = st.Focused.Render(pad(f.label, labelWidth))
		}
		f.input.width = inputW
		lines = append(lines, " "+fieldMark(st, focused, f.required || starred[f.key])+label+" "+f.view(st, focused, reveal))
		for _, m := range l.errs[f.key] {
			lines = append(lines, wrapIndented(st.Error, "✗ "+m, labelWidth+4, w)...)
		}
		if focused && f.help != "" {
			lines = append(lines, spaces(labelWidth+4)+st.Muted.Render(truncate(f.help, w-labelWidth-5)))
		}
		if focused {
			focusBottom = len(lines) - 1
		}
	}
	return lines, focusTop, focusBottom
}

// fieldMark is the two cells before a label: the focus marker and the
// required star.
func fieldMark(st Styles, focused, required bool) string {
	cur, req := " ", " "
	if focused {
		cur = st.Focused.Render("▸")
	}
	if required {
		req = st.Required.Render("*")
	}
	return cur + req
}
