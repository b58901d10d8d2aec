package ui

import (
	"math/rand"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/provider/engine"
)

// TestMonkey presses random keys (and wheels and resizes) across every
// screen: nothing may panic and every frame must fit the terminal.
func TestMonkey(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	keys := []string{"j", "k", "g", "G", "enter", "esc", "tab", "shift+tab", "up", "down", "left", "right", "pgup", "pgdown",
		"n", "e", "d", "p", "P", "y", "E", "D", "R", "x", "w", "W", "f", "r", "c", "s", "t", "a", "/", ":", "?", "space",
		"backspace", "ctrl+s", "ctrl+r", "ctrl+u", "end", "home", "1", "{", "\"", "i:2", "n", "o", "O", "3"}
	rng := rand.New(rand.NewSource(7))
	h := newHarness(t, st, 100, 30, func(d *engine.LocalOptions) {
		d.Poller, d.Replayer, d.Webhooks = &fakePoller{}, &fakeReplayer{}, &fakeWebhooks{}
	})
	w, hh := 100, 30
	for i := 0; i < 3000; i++ {
		switch r := rng.Intn(40); {
		case r == 0:
			w, hh = 40+rng.Intn(100), 10+rng.Intn(40)
			h.send(tea.WindowSizeMsg{Width: w, Height: hh})
		case r == 1:
			h.send(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
		case r == 2:
			h.send(refreshDueMsg{})
		default:
			h.key(keys[rng.Intn(len(keys))])
		}
		if h.quit {
			h.quit = false
		}
		checkSize(t, h.view(), w, hh)
		if t.Failed() {
			t.Fatalf("after step %d on %s", i, h.top().Title())
		}
	}
}
