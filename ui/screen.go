package ui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

type keyMsg = tea.KeyMsg

// screen is one page of the console. Screens are pointers updated in
// place; the root model keeps them on a stack.
type screen interface {
	help.KeyMap
	// Init starts the screen's first loads.
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	// SetSize gives the body size; the root calls it on every screen of
	// the stack, so going back never shows a stale layout.
	SetSize(w, h int)
	// ID is the screen's number for addressed messages.
	ID() int
	// Title is the screen's breadcrumb.
	Title() string
}

// capturer is a screen that currently sends keys to a text input, so the
// root's single-letter keys (q, ?, :, /) must not fire.
type capturer interface{ Capturing() bool }

// canceler is a screen with something to cancel before esc goes back: an
// applied filter, a dialog, unsaved changes. Cancel reports whether it
// consumed the esc.
type canceler interface{ Cancel() (bool, tea.Cmd) }

// refresher reloads when the store changed or the screen is back on top.
type refresher interface{ Refresh() tea.Cmd }

// sorter is a list in an order the operator chose; the breadcrumb says
// which ("sorted by type ↑"), or nothing in the list's own order.
type sorter interface{ Sorted() string }

// statuser adds a short status to the breadcrumb line ("following", "3 new").
type statuser interface{ Status() string }

// addressed is a message for one screen.
type addressed interface{ screenID() int }

// addr makes a message addressed; embed it.
type addr struct{ sid int }

func (a addr) screenID() int { return a.sid }

// Navigation and feedback messages, produced by screens as commands.
type (
	popMsg   struct{}
	toastMsg struct {
		text string
		kind toastKind
		// err and what, for an error, are the error and what was being
		// done; the popup puts the error's cause first.
		err  error
		what string
	}
	// copyMsg asks the root to copy text; what names it in the toast.
	copyMsg struct{ text, what string }
	// copiedMsg is the clipboard's answer.
	copiedMsg struct {
		text, what string
		err        error
	}
	// instancesChangedMsg carries a fresh instance list for the name cache.
	instancesChangedMsg struct{ names map[int64]string }
)

func pop() tea.Msg { return popMsg{} }

func toast(kind toastKind, text string) tea.Cmd {
	return func() tea.Msg { return toastMsg{text: text, kind: kind} }
}

func copyText(text, what string) tea.Cmd {
	return func() tea.Msg { return copyMsg{text: text, what: what} }
}
