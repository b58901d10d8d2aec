package ui

import (
	"strconv"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Context is what every screen shares: the engine's handles, the clock,
// styles and keys, the body size, and a cache of instance names for rows
// that only carry an id. The root model owns it; screens hold a pointer.
type Context struct {
	Deps
	Styles Styles
	Keys   GlobalKeys
	List   ListKeys
	Now    func() time.Time
	Loc    *time.Location
	// Width and Height are the body's size: the window minus header,
	// status bar, toast and hint lines.
	Width, Height int
	// Static mirrors Options.Static: no ticks, no subscription.
	Static bool

	names  map[int64]string
	nextID int
	// msgs keeps the session's toasts and errors for :messages.
	msgs *messageLog
	// nav holds navigation a screen asked for during its Update; the root
	// applies it before the next message, so keys typed right after
	// "open" land on the new screen, never on the old one.
	nav []navOp
}

// navOp is one requested move on the screen stack: push s, or pop when
// s is nil.
type navOp struct{ s screen }

// push asks the root to open s on top.
func (c *Context) push(s screen) tea.Cmd {
	c.nav = append(c.nav, navOp{s})
	return nil
}

// pop asks the root to go back one screen.
func (c *Context) pop() tea.Cmd {
	c.nav = append(c.nav, navOp{})
	return nil
}

func newContext(deps Deps, opts Options) *Context {
	c := &Context{Deps: deps, Styles: DefaultStyles(), Keys: DefaultGlobalKeys(), List: DefaultListKeys(),
		Now: opts.Now, Loc: opts.Location, Static: opts.Static, names: map[int64]string{}, msgs: &messageLog{}}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Loc == nil {
		c.Loc = time.Local
	}
	return c
}

// newID numbers screens so asynchronous results reach the screen that
// asked, even after the user moved on.
func (c *Context) newID() int {
	c.nextID++
	return c.nextID
}

// instanceLabel is "#3 name", or "#3" for an unknown or deleted instance.
func (c *Context) instanceLabel(id int64) string {
	s := "#" + strconv.FormatInt(id, 10)
	if n := c.names[id]; n != "" {
		s += " " + n
	}
	return s
}

// clock formats a time of day in the display zone; older times get a date.
func (c *Context) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(c.Loc)
	now := c.Now().In(c.Loc)
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 02 15:04")
}

// stamp is a full, unambiguous time for detail views.
func (c *Context) stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(c.Loc).Format("2006-01-02 15:04:05 MST")
}

// ago is a short relative time ("5s ago", "3m ago", "in 2m").
func (c *Context) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := c.Now().Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		s = strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		s = strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
