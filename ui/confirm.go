package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// confirmDialog asks a yes/no question before something destructive or
// outward-facing (delete, replay all, register with a vendor). lazygit's
// rule: when unsure whether to confirm, confirm.
type confirmDialog struct {
	active   bool
	question string
	yes      func() tea.Cmd
}

func (d *confirmDialog) ask(question string, yes func() tea.Cmd) {
	d.active, d.question, d.yes = true, question, yes
}

// Update handles a key while the dialog is open: y or enter confirms,
// anything else (n, esc) declines.
func (d *confirmDialog) Update(msg tea.KeyMsg) tea.Cmd {
	d.active = false
	switch msg.String() {
	case "y", "Y", "enter":
		if d.yes != nil {
			return d.yes()
		}
	}
	return nil
}

// Over draws the question in a box over the middle of body.
func (d *confirmDialog) Over(st Styles, body string, w, h int) string {
	inner := min(60, max(20, w-8))
	q := lipgloss.NewStyle().Width(inner).Render(d.question)
	box := st.Dialog.Render(q + "\n\n" + st.Focused.Render("y") + st.Muted.Render(" yes   ") + st.Focused.Render("n") + st.Muted.Render(" no"))
	return overlay(body, box, w, h)
}

// overlay draws box over the middle of body, keeping the body's lines
// above and below visible.
func overlay(body, box string, w, h int) string {
	lines := strings.Split(fitLines(body, w, h), "\n")
	bl := strings.Split(box, "\n")
	top := max(0, (h-len(bl))/2)
	bw := lipgloss.Width(box)
	left := max(0, (w-bw)/2)
	for i, l := range bl {
		if top+i >= len(lines) {
			break
		}
		lines[top+i] = spaces(left) + l
	}
	return strings.Join(lines, "\n")
}
