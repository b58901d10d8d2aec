package ui

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// message is one toast or error of the session, kept in full for the
// :messages screen.
type message struct {
	at    time.Time
	kind  toastKind
	cause string
	// context is what was being done when it happened ("poll #5 failed:
	// accounts: GET …"); empty for plain notices.
	context string
}

// text is the message on one line, cause first.
func (m message) text() string {
	if m.context == "" {
		return m.cause
	}
	return m.cause + " — " + m.context
}

// messageLimit bounds the session's message log; the oldest go first.
const messageLimit = 500

// messageLog is the session's messages. The :messages screen reads it
// from a command, so it is locked.
type messageLog struct {
	mu   sync.Mutex
	msgs []message
}

func (l *messageLog) add(m message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, m)
	if len(l.msgs) > messageLimit {
		l.msgs = append([]message(nil), l.msgs[len(l.msgs)-messageLimit:]...)
	}
}

// all returns a copy, oldest first.
func (l *messageLog) all() []message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]message(nil), l.msgs...)
}

// toastErr reports a failure: what was being done, and the error. The
// root shows it cause first in a popup that stays until dismissed.
func toastErr(what string, err error) tea.Cmd {
	return func() tea.Msg { return errMsg(what, err) }
}

// errMsg is toastErr's message, for commands that return one directly.
func errMsg(what string, err error) toastMsg {
	return toastMsg{text: what + ": " + err.Error(), kind: toastError, err: err, what: what}
}

// causeFirst splits a failure into its cause and the context it
// happened in, so the cause is read first and never cut: "no such host"
// before "poll #5 failed: accounts: GET https://…". With a wrapped
// error the cause is the innermost error's message; with text alone (an
// engine's answer over the API) it is the part after the last ": ".
func causeFirst(text string, err error) (cause, context string) {
	if err != nil {
		inner := err
		for {
			u := errors.Unwrap(inner)
			if u == nil || u.Error() == "" {
				break
			}
			inner = u
		}
		if in := inner.Error(); inner != err && strings.HasSuffix(text, in) {
			return in, strings.TrimSuffix(strings.TrimSuffix(text, in), ": ")
		}
	}
	i := strings.LastIndex(text, ": ")
	if i <= 0 || len(strings.TrimSpace(text[i+2:])) < 3 {
		return text, ""
	}
	return text[i+2:], text[:i]
}

// newMessage builds a log entry from a toast.
func newMessage(now time.Time, m toastMsg) message {
	if m.kind != toastError {
		return message{at: now, kind: m.kind, cause: m.text}
	}
	cause, ctx := causeFirst(m.text, m.err)
	return message{at: now, kind: m.kind, cause: cause, context: ctx}
}

// errorPopup is the error on screen: it stays over the body until a key
// dismisses it (lazygit's error popup), so nothing of it is lost to a
// timer or the width.
type errorPopup struct {
	active bool
	msg    message
}

// View draws the popup over body: the cause in full, then the context,
// both wrapped.
func (p *errorPopup) View(st Styles, body string, w, h int) string {
	inner := min(72, max(20, w-6))
	cause := lipgloss.NewStyle().Width(inner).Render(p.msg.cause)
	lines := []string{st.Error.Render("✗ Error"), "", st.Error.Render(cause)}
	if p.msg.context != "" {
		lines = append(lines, "", st.Muted.Render(lipgloss.NewStyle().Width(inner).Render("while: "+p.msg.context)))
	}
	lines = append(lines, "", st.Focused.Render("esc")+st.Muted.Render(" close · :messages keeps every message"))
	body = fitLines(body, w, h)
	box := st.Dialog.Render(strings.Join(lines, "\n"))
	if bl := strings.Split(box, "\n"); len(bl) > h {
		// A very long error on a small terminal: keep the top (the cause)
		// and the way out, the rest is in :messages.
		box = strings.Join(append(bl[:h-2], bl[len(bl)-2:]...), "\n")
	}
	return overlay(body, box, w, h)
}

// newMessagesScreen lists the session's toasts and errors in full,
// newest first.
func newMessagesScreen(ctx *Context) screen {
	log := ctx.msgs
	fetch := func() (any, error) { return log.all(), nil }
	render := func(data any, w int) string {
		st := ctx.Styles
		msgs, _ := data.([]message)
		if len(msgs) == 0 {
			return strings.Join(wrapIndented(st.Muted, "No messages yet. Every toast and error of this session is kept here in full, newest first.", 1, w), "\n")
		}
		var out []string
		for i := len(msgs) - 1; i >= 0; i-- {
			m := msgs[i]
			style, label := st.Muted, "info "
			switch m.kind {
			case toastError:
				style, label = st.Error, "error"
			case toastOK:
				style, label = st.OK, "ok   "
			}
			head := fmt.Sprintf(" %s %s ", ctx.clock(m.at), label)
			lead := lipgloss.Width(head)
			for j, l := range wrapIndented(style, m.cause, lead, w) {
				if j == 0 {
					l = st.Muted.Render(" "+ctx.clock(m.at)+" ") + style.Render(label) + " " + strings.TrimLeft(l, " ")
				}
				out = append(out, l)
			}
			if m.context != "" {
				out = append(out, wrapIndented(st.Muted, "while: "+m.context, lead, w)...)
			}
		}
		return strings.Join(out, "\n")
	}
	s := newDocScreen(ctx, "Messages", fetch, render)
	s.actions = []key.Binding{}
	return s
}
