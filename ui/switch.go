package ui

import (
	"context"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/provider/backend"
)

// Switcher lists the named engines the console can attach to and attaches
// to one (":ctx NAME"), as k9s switches clusters. The command line
// provides it from its contexts file; "-" names the engine the console
// started with.
type Switcher interface {
	// Contexts are the names, and the one in use ("" for the start one).
	Contexts() (names []string, current string, err error)
	// Attach reaches the named engine; the console closes the backend
	// it leaves unless it is the one it started with.
	Attach(ctx context.Context, name string) (Deps, error)
}

// switchedMsg carries the engine the console attaches to next.
type switchedMsg struct {
	name string
	deps Deps
	err  error
}

// switchTimeout bounds reaching another engine.
const switchTimeout = 15 * time.Second

// runCtx lists contexts (no name) or switches to one.
func (a *App) runCtx(name string) tea.Cmd {
	sw := a.ctx.Switcher
	if sw == nil {
		return a.notify(toastMsg{text: "no contexts here: start the console with eventdesk (not the demo) and add some with eventdesk context add", kind: toastError})
	}
	if name == "" {
		names, cur, err := sw.Contexts()
		if err != nil {
			return a.notify(errMsg("contexts", err))
		}
		if len(names) == 0 {
			return a.notify(toastMsg{text: "no contexts yet: eventdesk context add NAME --server URL --user-secret S --org-secret S", kind: toastInfo})
		}
		parts := make([]string, 0, len(names)+1)
		for _, n := range names {
			if n == cur {
				n += "*"
			}
			parts = append(parts, n)
		}
		if cur != "" {
			parts = append(parts, "- (back to the start)")
		}
		return a.notify(toastMsg{text: "contexts: " + strings.Join(parts, ", ") + " · :ctx NAME attaches", kind: toastInfo})
	}
	return func() tea.Msg {
		c, cancel := context.WithTimeout(context.Background(), switchTimeout)
		defer cancel()
		d, err := sw.Attach(c, name)
		return switchedMsg{name: name, deps: d, err: err}
	}
}

// switched replaces the engine under every screen: the old subscription
// ends, home opens on the new engine, stats and names reload.
func (a *App) switched(m switchedMsg) tea.Cmd {
	if m.err != nil {
		return a.notify(errMsg("context "+m.name, m.err))
	}
	if a.sub != nil {
		a.sub.Close()
		a.sub = nil
	}
	old := a.ctx.Deps
	d := m.deps
	if d.Clipboard == nil {
		d.Clipboard = old.Clipboard
	}
	if d.Switcher == nil {
		d.Switcher = old.Switcher
	}
	if d.LogPath == "" {
		d.LogPath = old.LogPath
	}
	a.ctx.Deps = d
	a.ctx.names = map[int64]string{}
	a.linkDown = nil
	a.stats = stats{}
	home := newInstancesScreen(a.ctx)
	home.SetSize(a.ctx.Width, a.ctx.Height)
	a.stack = []screen{home}
	cmds := []tea.Cmd{home.Init(), a.reloadStats(true)}
	if !a.ctx.Static {
		if sub, err := d.Backend.Subscribe(context.Background()); err == nil {
			a.sub = sub
			cmds = append(cmds, waitChange(sub), waitLink(sub))
		} else {
			a.linkDown = err
		}
	}
	where := d.Attached
	if where == "" {
		where = "the engine in this process"
	}
	cmds = append(cmds, a.notify(toastMsg{text: "now on " + where, kind: toastOK}))
	return tea.Batch(cmds...)
}

// infoMsg is the engine's description, read again after a reconnect.
type infoMsg struct {
	b    backend.Backend
	info backend.Info
	err  error
}

func loadInfo(b backend.Backend) tea.Cmd {
	return func() tea.Msg {
		c, cancel := context.WithTimeout(context.Background(), switchTimeout)
		defer cancel()
		info, err := b.Info(c)
		return infoMsg{b: b, info: info, err: err}
	}
}
