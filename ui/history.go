package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// Object history and diff: what an operator asks first when a sync
// misbehaves is "what changed?".
var (
	historyKey = bind("h", "h", "object history")
	diffKey    = bind("d", "d", "diff to previous")
)

// newHistoryScreen lists every stored event of e's object (instance,
// object type, object id), newest first: the events screen narrowed by a
// filter the operator can read and edit.
func newHistoryScreen(ctx *Context, e model.Event) *eventsScreen {
	s := newEventsScreen(ctx, e.InstanceID)
	q := "t:" + e.ObjectType + " oid:" + e.ObjectID
	s.filter.Apply(q)
	s.query = parseFeedQuery(q, e.InstanceID, ctx.Now())
	return s
}

// diffDoc is a diff screen's content: the event, the version it is
// compared with, and their differences.
type diffDoc struct {
	newer, older model.Event
	changes      []model.Change
}

// newDiffScreen shows the field-level differences between event id's raw
// payload and the previous stored version of the same object.
func newDiffScreen(ctx *Context, id string) *docScreen {
	b := ctx.Backend
	return newDocScreen(ctx, "Diff of event "+id, func() (any, error) {
		e, err := b.Event(opCtx(), id)
		if err != nil {
			return nil, err
		}
		prev, _, err := b.Events(opCtx(), model.EventFilter{InstanceID: e.InstanceID, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Before: e.Seq()}, 1)
		if err != nil {
			return nil, err
		}
		if len(prev) == 0 {
			return nil, fmt.Errorf("event %s is the oldest stored version of %s %s: there is nothing to compare it with", id, e.ObjectType, e.ObjectID)
		}
		older, err := b.Event(opCtx(), prev[0].ID)
		if err != nil {
			return nil, err
		}
		changes, err := model.DiffJSON(older.Raw, e.Raw)
		if err != nil {
			return nil, err
		}
		return diffDoc{newer: e, older: older, changes: changes}, nil
	}, func(data any, w int) string { return renderDiff(ctx, data.(diffDoc), w) })
}

func renderDiff(ctx *Context, d diffDoc, w int) string {
	st := ctx.Styles
	var b strings.Builder
	fmt.Fprintf(&b, " %s\n", st.Title.Render(fmt.Sprintf("%s %s · %s", d.newer.ObjectType, d.newer.ObjectID, ctx.instanceLabel(d.newer.InstanceID))))
	fmt.Fprintf(&b, " %s\n", st.Muted.Render(fmt.Sprintf("event %s (%s, %s) against event %s (%s, %s)",
		d.newer.ID, d.newer.EventType, ctx.stamp(d.newer.ReceivedAt), d.older.ID, d.older.EventType, ctx.stamp(d.older.ReceivedAt))))
	b.WriteString("\n")
	if len(d.changes) == 0 {
		b.WriteString(" " + st.Muted.Render("the payloads are the same") + "\n")
		return b.String()
	}
	for _, c := range d.changes {
		var line string
		switch c.Kind {
		case model.Added:
			line = st.OK.Render("+ " + c.Path + " = " + c.New)
		case model.Removed:
			line = st.Error.Render("- " + c.Path + " = " + c.Old)
		default:
			line = st.Warn.Render("~ "+c.Path+": ") + c.Old + " → " + c.New
		}
		b.WriteString(" " + line + "\n")
	}
	return b.String()
}

// historyOrDiff handles h and d on an event (list or detail).
func historyOrDiff(ctx *Context, msg tea.KeyMsg, e model.Event) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, historyKey):
		return ctx.push(newHistoryScreen(ctx, e)), true
	case key.Matches(msg, diffKey):
		return ctx.push(newDiffScreen(ctx, e.ID)), true
	}
	return nil, false
}
