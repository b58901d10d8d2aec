package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

type toastKind int

// Toast kinds pick the toast's colour.
const (
	toastInfo toastKind = iota
	toastOK
	toastError
)

// toastTTL is how long a toast stays; errors stay longer so they can be
// read.
const toastTTL = 4 * time.Second

// toastLine is the one-line message under the body. Each toast has a
// sequence number so an old expiry timer cannot clear a newer toast.
type toastLine struct {
	text string
	kind toastKind
	seq  int
}

type toastExpiredMsg struct{ seq int }

func (t *toastLine) set(ctx *Context, text string, kind toastKind) tea.Cmd {
	t.seq++
	t.text, t.kind = text, kind
	if ctx.Static {
		return nil
	}
	ttl := toastTTL
	if kind == toastError {
		ttl *= 2
	}
	seq := t.seq
	return tea.Tick(ttl, func(time.Time) tea.Msg { return toastExpiredMsg{seq} })
}

func (t *toastLine) expire(seq int) {
	if seq == t.seq {
		t.text = ""
	}
}

func (t *toastLine) View(st Styles, width int) string {
	if t.text == "" {
		return ""
	}
	s := st.Toast
	switch t.kind {
	case toastError:
		s = st.ToastError
	case toastOK:
		s = st.ToastOK
	}
	return s.Render(truncate(t.text, width))
}
