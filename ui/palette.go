package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// paletteCommand is one ":" command.
type paletteCommand struct {
	name, args, desc string
}

// paletteCommands are k9s-style jumps. An optional instance id narrows the
// events and deliveries views.
var paletteCommands = []paletteCommand{
	{"instances", "", "instance list (home)"},
	{"events", "[ID]", "live events, all or of one instance"},
	{"deliveries", "[ID]", "callback notifications: pending, failing, dead"},
	{"rejected", "", "webhook requests the listener refused"},
	{"messages", "", "this session's toasts and errors, in full"},
	{"new", "", "create an instance"},
	{"ctx", "[NAME]", "list contexts, or attach to one (- goes back)"},
	{"help", "", "keys of this screen"},
	{"q", "", "quit"},
}

// palette is the ":" prompt with completion.
type palette struct {
	active bool
	input  lineInput
	sel    int
}

func (p *palette) open() {
	p.active = true
	p.input = newLineInput("")
	p.input.Focus()
	p.sel = 0
}

func (p *palette) close() { p.active = false }

// matches are the commands the typed word is a prefix of.
func (p *palette) matches() []paletteCommand {
	word, _, _ := strings.Cut(strings.TrimSpace(p.input.Value()), " ")
	var out []paletteCommand
	for _, c := range paletteCommands {
		if strings.HasPrefix(c.name, strings.ToLower(word)) {
			out = append(out, c)
		}
	}
	if word == "quit" {
		out = append(out, paletteCommand{name: "q"})
	}
	return out
}

// paletteRunMsg is a command the palette resolved, for the root to run.
type paletteRunMsg struct{ name, arg string }

// Update handles a key; the returned message, if any, is the command to
// run or an error toast.
func (p *palette) Update(msg tea.KeyMsg) tea.Msg {
	ms := p.matches()
	switch msg.Type {
	case tea.KeyEsc:
		p.close()
		return nil
	case tea.KeyTab, tea.KeyDown:
		if len(ms) == 0 {
			return nil
		}
		if msg.Type == tea.KeyTab {
			_, arg, _ := strings.Cut(strings.TrimSpace(p.input.Value()), " ")
			p.input.SetValue(strings.TrimSpace(ms[p.sel%len(ms)].name + " " + arg))
			if len(p.matches()) > 1 {
				p.sel++
			}
			return nil
		}
		p.sel = (p.sel + 1) % len(ms)
		return nil
	case tea.KeyShiftTab, tea.KeyUp:
		if len(ms) > 0 {
			p.sel = (p.sel + len(ms) - 1) % len(ms)
		}
		return nil
	case tea.KeyEnter:
		p.close()
		word, arg, _ := strings.Cut(strings.TrimSpace(p.input.Value()), " ")
		word = strings.ToLower(word)
		if word == "" {
			return nil
		}
		for _, c := range ms {
			if c.name == word {
				return paletteRunMsg{c.name, strings.TrimSpace(arg)}
			}
		}
		if len(ms) > 0 {
			return paletteRunMsg{ms[p.sel%len(ms)].name, strings.TrimSpace(arg)}
		}
		return toastMsg{text: "unknown command :" + word + " — try :instances, :events, :deliveries, :rejected, :q", kind: toastError}
	}
	p.input.Update(msg)
	p.sel = 0
	return nil
}

// View is the prompt line; Candidates the completion line above it.
func (p *palette) View(st Styles, width int) string {
	p.input.width = max(10, width/3)
	return st.Prompt.Render(":") + p.input.View(st)
}

func (p *palette) Candidates(st Styles, width int) string {
	ms := p.matches()
	if len(ms) == 0 {
		return st.Error.Render("no such command")
	}
	var parts []string
	for i, c := range ms {
		label := c.name
		if c.args != "" {
			label += " " + c.args
		}
		if i == p.sel%len(ms) {
			parts = append(parts, st.Focused.Render("▸"+label)+st.Muted.Render(" "+c.desc))
		} else {
			parts = append(parts, st.Muted.Render(" "+label))
		}
	}
	return truncate(strings.Join(parts, "  "), width)
}
