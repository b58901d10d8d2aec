package ui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// lineInput is a one-line text field. bubbles/textinput would do, but it
// imports a native clipboard module that is not among eventdesk's
// dependencies; the console copies through OSC 52 and needs only editing.
type lineInput struct {
	value       []rune
	pos         int
	focused     bool
	secret      bool // shown as * unless reveal
	reveal      bool
	placeholder string
	width       int
	// scroll is the first visible rune when the value is wider than width.
	scroll int
}

func newLineInput(placeholder string) lineInput {
	return lineInput{placeholder: placeholder, width: 30}
}

func (in *lineInput) SetValue(s string) {
	in.value = []rune(s)
	in.pos = len(in.value)
	in.scroll = 0
}

func (in lineInput) Value() string { return string(in.value) }

func (in *lineInput) Focus() { in.focused = true }
func (in *lineInput) Blur()  { in.focused = false }

// Update edits on a key and reports whether the value changed. Keys it
// does not know are left to the caller.
func (in *lineInput) Update(msg tea.KeyMsg) (changed, handled bool) {
	before := string(in.value)
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		r := msg.Runes
		if msg.Type == tea.KeySpace {
			r = []rune{' '}
		}
		// Pasted text may hold newlines and tabs; a one-line field keeps
		// them as spaces.
		clean := make([]rune, 0, len(r))
		for _, c := range r {
			if c == '\n' || c == '\r' || c == '\t' {
				c = ' '
			}
			if unicode.IsPrint(c) {
				clean = append(clean, c)
			}
		}
		in.insert(clean)
	case tea.KeyBackspace, tea.KeyCtrlH:
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case tea.KeyDelete, tea.KeyCtrlD:
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case tea.KeyLeft, tea.KeyCtrlB:
		if in.pos > 0 {
			in.pos--
		}
	case tea.KeyRight, tea.KeyCtrlF:
		if in.pos < len(in.value) {
			in.pos++
		}
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.value)
	case tea.KeyCtrlU:
		in.value = append([]rune(nil), in.value[in.pos:]...)
		in.pos = 0
	case tea.KeyCtrlK:
		in.value = in.value[:in.pos]
	case tea.KeyCtrlW:
		i := in.pos
		for i > 0 && in.value[i-1] == ' ' {
			i--
		}
		for i > 0 && in.value[i-1] != ' ' {
			i--
		}
		in.value = append(in.value[:i], in.value[in.pos:]...)
		in.pos = i
	default:
		return false, false
	}
	return string(in.value) != before, true
}

func (in *lineInput) insert(r []rune) {
	v := make([]rune, 0, len(in.value)+len(r))
	v = append(v, in.value[:in.pos]...)
	v = append(v, r...)
	v = append(v, in.value[in.pos:]...)
	in.value = v
	in.pos += len(r)
}

// View renders the field in its width, scrolled so the cursor shows.
func (in *lineInput) View(st Styles) string {
	w := in.width
	if w < 4 {
		w = 4
	}
	shown := in.value
	if in.secret && !in.reveal {
		shown = []rune(strings.Repeat("*", len(in.value)))
	}
	if len(shown) == 0 && !in.focused {
		return st.Muted.Render(truncate(in.placeholder, w))
	}
	if !in.focused {
		// At rest a field shows its beginning.
		return st.Value.Render(truncate(string(shown), w))
	}
	if in.pos < w-1 {
		in.scroll = 0
	}
	if in.pos < in.scroll {
		in.scroll = in.pos
	}
	if in.pos-in.scroll >= w {
		in.scroll = in.pos - w + 1
	}
	if in.scroll > len(shown) {
		in.scroll = len(shown)
	}
	end := min(len(shown), in.scroll+w)
	vis := shown[in.scroll:end]
	cur := in.pos - in.scroll
	var b strings.Builder
	b.WriteString(st.Value.Render(string(vis[:min(cur, len(vis))])))
	under := " "
	if cur < len(vis) {
		under = string(vis[cur])
	}
	b.WriteString(cursorView(st, under))
	if cur+1 <= len(vis) {
		b.WriteString(st.Value.Render(string(vis[min(cur+1, len(vis)):])))
	}
	if len(shown) == 0 && in.placeholder != "" {
		b.WriteString(st.Muted.Render(truncate(in.placeholder, w-1)))
	}
	return b.String()
}

// cursorView draws the text cursor. Without colour a reverse-video cell is
// invisible, so plain terminals get a bar before the character instead.
func cursorView(st Styles, under string) string {
	if st.Plain {
		if under == " " {
			return "▏"
		}
		return "▏" + under
	}
	return st.Cursor.Render(under)
}

// truncate cuts s to width cells, ending in … when cut. It keeps ANSI
// styling intact, so styled cells can be cut too.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// pad cuts or pads s to exactly width cells.
func pad(s string, width int) string {
	s = truncate(s, width)
	if w := lipgloss.Width(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// padLeft right-aligns s in width cells.
func padLeft(s string, width int) string {
	s = truncate(s, width)
	if w := lipgloss.Width(s); w < width {
		s = strings.Repeat(" ", width-w) + s
	}
	return s
}
