package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/eventdesk/eventdesk/model"
)

type rawKeys struct {
	Back, Undo, Save key.Binding
}

func newRawKeys() rawKeys {
	return rawKeys{
		Back: bind("esc", "esc", "back to rows"),
		Undo: bind("ctrl+z", "ctrl+z", "undo"),
		Save: bind("ctrl+s", "ctrl+s", "save"),
	}
}

// rawEditor edits the whole poller configuration as JSON text, checked
// as the user types; while the text parses, the rows follow it.
type rawEditor struct {
	ctx  *Context
	doc  *pollerDoc
	host pollerHost
	keys rawKeys
	raw  textEditor
	// rawFrom are the rows as they were when raw mode opened: discarding
	// the raw edits goes back to them.
	rawFrom  []pollerRow
	rawProbs []model.Problem
	rawOK    bool
}

func newRawEditor(ctx *Context, doc *pollerDoc, host pollerHost) rawEditor {
	return rawEditor{ctx: ctx, doc: doc, host: host, keys: newRawKeys(), raw: newTextEditor()}
}

// open starts editing the rows as they are now.
func (m *rawEditor) open() {
	m.rawFrom = append([]pollerRow(nil), m.doc.rows...)
	m.raw.SetValue(configJSON(m.doc.rows, true))
	m.check()
}

var lineColRe = regexp.MustCompile(`line (\d+), column (\d+)`)

// check parses the raw text as the model will; a syntax error marks its
// line in the editor.
func (m *rawEditor) check() {
	data := model.StripJSONC([]byte(m.raw.Value()))
	pc, probs := model.ParsePollerConfig(data)
	m.rawProbs, m.rawOK = probs, pc != nil
	m.raw.mark = 0
	for _, p := range probs {
		if lc := lineColRe.FindStringSubmatch(p.Message); lc != nil {
			m.raw.mark, _ = strconv.Atoi(lc[1])
			break
		}
	}
	if pc != nil {
		// Keep the rows (and so the preview) in step with the text.
		m.doc.rows = rowsFrom(pc)
	}
}

func (m *rawEditor) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, m.keys.Back):
		if !m.rawOK {
			// Broken JSON cannot become rows: offer to drop the raw
			// edits (n stays, to fix them or ctrl+z them away).
			m.host.ask("The JSON does not parse ("+firstProblem(m.rawProbs)+"). Discard the raw edits and go back to the rows as they were?", func() tea.Cmd {
				m.doc.rows = append([]pollerRow(nil), m.rawFrom...)
				m.host.showRows("")
				m.doc.revalidate()
				return toast(toastInfo, "discarded the raw JSON edits")
			})
			return nil
		}
		m.host.showRows("")
		m.doc.revalidate()
		return nil
	case key.Matches(km, m.keys.Save):
		if !m.rawOK {
			return toast(toastError, "not saved: "+firstProblem(m.rawProbs))
		}
		return m.host.save()
	}
	// ctrl+z (keys.Undo) is the text editor's own.
	if m.raw.Update(km) {
		m.check()
	}
	return nil
}

func (m *rawEditor) View(w, h int) string {
	st := m.ctx.Styles
	line, col := m.raw.Cursor()
	status := st.Muted.Render(fmt.Sprintf(" line %d, column %d · ctrl+z undo · esc back to rows · ctrl+s save", line, col))
	var msgs []string
	if len(m.rawProbs) == 0 {
		msgs = []string{" " + st.OK.Render("✓ valid") + st.Muted.Render(fmt.Sprintf(" — %d resource(s)", len(m.doc.rows)))}
	}
	for i, p := range m.rawProbs {
		if len(msgs) >= 3 {
			msgs = append(msgs, " "+st.Error.Render(fmt.Sprintf("… and %d more", len(m.rawProbs)-i)))
			break
		}
		// Wrapped: a JSON error's line and column come last.
		wrapped := lipgloss.NewStyle().Width(max(10, w-4)).Render(problemText(p))
		for j, l := range strings.Split(wrapped, "\n") {
			lead := "   "
			if j == 0 {
				lead = " ✗ "
			}
			msgs = append(msgs, st.Error.Render(lead+strings.TrimRight(l, " ")))
		}
	}
	m.raw.width, m.raw.height = w, max(3, h-1-len(msgs))
	return fitLines(m.raw.View(st)+"\n"+joinLines(msgs)+"\n"+status, w, h)
}

func (m *rawEditor) ShortHelp() []key.Binding {
	k := m.keys
	return []key.Binding{k.Back, k.Undo, k.Save}
}

func (m *rawEditor) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{{k.Back, k.Undo, k.Save}}
}
