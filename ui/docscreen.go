package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// docScreen is a read-only, scrollable page built from one load: the
// delivery and rejected-request details. fetch runs in a command; render
// turns its result into text when it arrives or the width changes.
type docScreen struct {
	ctx    *Context
	id     int
	title  string
	fetch  func() (any, error)
	render func(data any, width int) string
	// actions are extra keys of the page (replay, copy…); act runs them.
	actions []key.Binding
	act     func(k key.Binding, data any) tea.Cmd
	vp      viewport.Model
	data    any
	err     error
	loaded  bool
	w, h    int
}

type docLoadedMsg struct {
	addr
	data any
	err  error
}

func newDocScreen(ctx *Context, title string, fetch func() (any, error), render func(any, int) string) *docScreen {
	return &docScreen{ctx: ctx, id: ctx.newID(), title: title, fetch: fetch, render: render, vp: newScroller()}
}

func (s *docScreen) ID() int       { return s.id }
func (s *docScreen) Title() string { return s.title }
func (s *docScreen) Init() tea.Cmd {
	sid, fetch := s.id, s.fetch
	return func() tea.Msg {
		d, err := fetch()
		return docLoadedMsg{addr: addr{sid}, data: d, err: err}
	}
}
func (s *docScreen) Refresh() tea.Cmd { return s.Init() }

func (s *docScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.vp.Width, s.vp.Height = w, h
	s.draw()
}

func (s *docScreen) draw() {
	st := s.ctx.Styles
	switch {
	case s.err != nil:
		s.vp.SetContent(st.Error.Render(" " + s.err.Error()))
	case !s.loaded:
		s.vp.SetContent(st.Muted.Render(" loading…"))
	default:
		s.vp.SetContent(s.render(s.data, s.w))
	}
}

func (s *docScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case docLoadedMsg:
		s.data, s.err, s.loaded = msg.data, msg.err, true
		s.draw()
	case tea.MouseMsg:
		s.vp, _ = s.vp.Update(msg)
	case tea.KeyMsg:
		switch msg.String() {
		case "g", "home":
			s.vp.GotoTop()
			return nil
		case "G", "end":
			s.vp.GotoBottom()
			return nil
		}
		for _, a := range s.actions {
			if key.Matches(msg, a) && s.loaded && s.err == nil {
				return s.act(a, s.data)
			}
		}
		s.vp, _ = s.vp.Update(msg)
	}
	return nil
}

func (s *docScreen) View() string { return s.vp.View() }

func (s *docScreen) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, s.actions...), bind("j", "↑↓/pgup/pgdn", "scroll"))
}

func (s *docScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{scrollHelp(), s.actions}
}
