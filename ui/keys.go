package ui

import "github.com/charmbracelet/bubbles/key"

// GlobalKeys are the keys the root model handles on every screen (k9s,
// lazygit and gh-dash conventions).
type GlobalKeys struct {
	Quit    key.Binding // ctrl+c: always quits
	QuitTop key.Binding // q: quits at the top screen only
	Back    key.Binding
	Help    key.Binding
	// HelpAnywhere opens help even while a text field has the keys, where
	// '?' is typed as text.
	HelpAnywhere key.Binding
	Palette      key.Binding
}

// DefaultGlobalKeys returns the global bindings.
func DefaultGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit:         key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		QuitTop:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		HelpAnywhere: key.NewBinding(key.WithKeys("f1"), key.WithHelp("f1", "help (also in text fields)")),
		Palette:      key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
	}
}

// ListKeys move a cursor through a list or table; every list screen embeds
// them so navigation is the same everywhere.
type ListKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown, Filter key.Binding
}

// DefaultListKeys returns the list bindings.
func DefaultListKeys() ListKeys {
	return ListKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
	}
}

// nav returns the navigation bindings as one help column.
func (k ListKeys) nav() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Filter}
}

// move applies a navigation key to a cursor over n rows with a page of
// page rows. It is pure so the arithmetic is table-tested.
func (k ListKeys) move(msg keyMsg, cursor, n, page int) (int, bool) {
	if page < 1 {
		page = 1
	}
	switch {
	case key.Matches(msg, k.Up):
		cursor--
	case key.Matches(msg, k.Down):
		cursor++
	case key.Matches(msg, k.Top):
		cursor = 0
	case key.Matches(msg, k.Bottom):
		cursor = n - 1
	case key.Matches(msg, k.PageUp):
		cursor -= page
	case key.Matches(msg, k.PageDown):
		cursor += page
	default:
		return cursor, false
	}
	return clamp(cursor, 0, n-1), true
}

func bind(keys, helpKey, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(splitKeys(keys)...), key.WithHelp(helpKey, desc))
}

func splitKeys(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
