package ui

import (
	"fmt"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
)

// textEditor is a small multi-line editor with line numbers, used for the
// poller configuration's raw JSON mode. (bubbles/textarea pulls in a native
// clipboard module eventdesk does not depend on.) It can mark one line,
// so a JSON error's line is visible where the user is typing.
type textEditor struct {
	lines         [][]rune
	row, col      int
	top, left     int
	width, height int
	// mark is the 1-based line to flag (a parse error), 0 for none.
	mark int
	// undo holds the text before each edit, newest last; a run of typed
	// characters is one step, as in most editors, so ctrl+z takes back a
	// word rather than a letter.
	undo []editorState
	// typing is set while the last change was a typed character with no
	// cursor move since, so the next one joins its undo step.
	typing bool
}

// editorState is one undo step: the text and where the cursor was.
type editorState struct {
	lines    [][]rune
	row, col int
}

// undoLimit bounds the undo history; older steps are dropped.
const undoLimit = 500

func newTextEditor() textEditor { return textEditor{lines: [][]rune{{}}, width: 40, height: 10} }

func (e *textEditor) SetValue(s string) {
	e.lines = e.lines[:0]
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		e.lines = append(e.lines, []rune(l))
	}
	e.row, e.col, e.top, e.left = 0, 0, 0, 0
	e.undo, e.typing = nil, false
}

// snapshot records the text before a change for ctrl+z.
func (e *textEditor) snapshot() {
	lines := make([][]rune, len(e.lines))
	for i, l := range e.lines {
		lines[i] = append([]rune(nil), l...)
	}
	e.undo = append(e.undo, editorState{lines: lines, row: e.row, col: e.col})
	if len(e.undo) > undoLimit {
		e.undo = e.undo[len(e.undo)-undoLimit:]
	}
}

// Undo restores the text before the last edit and reports whether there
// was one.
func (e *textEditor) Undo() bool {
	e.typing = false
	if len(e.undo) == 0 {
		return false
	}
	last := e.undo[len(e.undo)-1]
	e.undo = e.undo[:len(e.undo)-1]
	e.lines, e.row, e.col = last.lines, last.row, last.col
	return true
}

// CanUndo reports whether ctrl+z has something to take back.
func (e *textEditor) CanUndo() bool { return len(e.undo) > 0 }

func (e *textEditor) Value() string {
	parts := make([]string, len(e.lines))
	for i, l := range e.lines {
		parts[i] = string(l)
	}
	return strings.Join(parts, "\n")
}

// Cursor is the 1-based line and column, for the status line.
func (e *textEditor) Cursor() (line, col int) { return e.row + 1, e.col + 1 }

// Update applies one key and reports whether the text changed. ctrl+z
// undoes the last edit.
func (e *textEditor) Update(msg tea.KeyMsg) (changed bool) {
	if msg.Type == tea.KeyCtrlZ {
		return e.Undo()
	}
	typed := msg.Type == tea.KeyRunes && !msg.Paste && len(msg.Runes) == 1 && msg.Runes[0] != ' '
	took := !typed || !e.typing
	if took {
		// Keep the text as it was, in case this key changes it; a key
		// that does not (a cursor move) drops the step again.
		e.snapshot()
	}
	changed = e.apply(msg)
	if took && !changed {
		e.undo = e.undo[:len(e.undo)-1]
	}
	e.typing = changed && typed
	return changed
}

// apply does the work of Update.
func (e *textEditor) apply(msg tea.KeyMsg) (changed bool) {
	line := e.lines[e.row]
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		r := msg.Runes
		if msg.Type == tea.KeySpace {
			r = []rune{' '}
		}
		e.insert(r)
		return true
	case tea.KeyTab:
		e.insert([]rune("  "))
		return true
	case tea.KeyEnter:
		indent := leadingSpace(line)
		rest := append([]rune(nil), line[e.col:]...)
		e.lines[e.row] = line[:e.col]
		nl := append(append([]rune(nil), indent...), rest...)
		e.lines = append(e.lines[:e.row+1], append([][]rune{nl}, e.lines[e.row+1:]...)...)
		e.row++
		e.col = len(indent)
		return true
	case tea.KeyBackspace, tea.KeyCtrlH:
		switch {
		case e.col > 0:
			e.lines[e.row] = append(line[:e.col-1], line[e.col:]...)
			e.col--
		case e.row > 0:
			prev := e.lines[e.row-1]
			e.col = len(prev)
			e.lines[e.row-1] = append(prev, line...)
			e.lines = append(e.lines[:e.row], e.lines[e.row+1:]...)
			e.row--
		default:
			return false
		}
		return true
	case tea.KeyDelete:
		switch {
		case e.col < len(line):
			e.lines[e.row] = append(line[:e.col], line[e.col+1:]...)
		case e.row < len(e.lines)-1:
			e.lines[e.row] = append(line, e.lines[e.row+1]...)
			e.lines = append(e.lines[:e.row+1], e.lines[e.row+2:]...)
		default:
			return false
		}
		return true
	case tea.KeyCtrlK:
		if e.col < len(line) {
			e.lines[e.row] = line[:e.col]
			return true
		}
		return false
	case tea.KeyLeft:
		if e.col > 0 {
			e.col--
		} else if e.row > 0 {
			e.row--
			e.col = len(e.lines[e.row])
		}
	case tea.KeyRight:
		if e.col < len(line) {
			e.col++
		} else if e.row < len(e.lines)-1 {
			e.row++
			e.col = 0
		}
	case tea.KeyUp:
		e.moveRow(-1)
	case tea.KeyDown:
		e.moveRow(1)
	case tea.KeyPgUp:
		e.moveRow(-max(1, e.height-1))
	case tea.KeyPgDown:
		e.moveRow(max(1, e.height-1))
	case tea.KeyHome, tea.KeyCtrlA:
		e.col = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		e.col = len(line)
	}
	return false
}

func (e *textEditor) moveRow(d int) {
	e.row = clamp(e.row+d, 0, len(e.lines)-1)
	e.col = min(e.col, len(e.lines[e.row]))
}

// insert adds typed or pasted text; pasted newlines split lines.
func (e *textEditor) insert(r []rune) {
	for _, c := range r {
		switch {
		case c == '\n':
			line := e.lines[e.row]
			rest := append([]rune(nil), line[e.col:]...)
			e.lines[e.row] = line[:e.col]
			e.lines = append(e.lines[:e.row+1], append([][]rune{rest}, e.lines[e.row+1:]...)...)
			e.row++
			e.col = 0
		case c == '\r':
		case c == '\t':
			e.insert([]rune("  "))
		case unicode.IsPrint(c):
			line := e.lines[e.row]
			nl := make([]rune, 0, len(line)+1)
			nl = append(append(append(nl, line[:e.col]...), c), line[e.col:]...)
			e.lines[e.row] = nl
			e.col++
		}
	}
}

func leadingSpace(l []rune) []rune {
	i := 0
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return append([]rune(nil), l[:i]...)
}

// View renders the visible window with a line-number gutter.
func (e *textEditor) View(st Styles) string {
	h := max(1, e.height)
	if e.row < e.top {
		e.top = e.row
	}
	if e.row >= e.top+h {
		e.top = e.row - h + 1
	}
	gutter := len(fmt.Sprint(len(e.lines))) + 2
	textW := max(4, e.width-gutter)
	if e.col < e.left {
		e.left = e.col
	}
	if e.col-e.left >= textW-1 {
		e.left = e.col - textW + 2
	}
	var b strings.Builder
	for i := e.top; i < e.top+h; i++ {
		if i > e.top {
			b.WriteByte('\n')
		}
		if i >= len(e.lines) {
			b.WriteString(st.Muted.Render(pad("~", gutter)))
			continue
		}
		num := fmt.Sprintf("%*d ", gutter-2, i+1)
		if i+1 == e.mark {
			b.WriteString(st.Error.Render("▶" + num))
		} else {
			b.WriteString(st.Muted.Render(" " + num))
		}
		l := e.lines[i]
		from := min(e.left, len(l))
		vis := l[from:min(len(l), from+textW)]
		if i != e.row {
			b.WriteString(string(vis))
			continue
		}
		cur := e.col - from
		b.WriteString(string(vis[:min(cur, len(vis))]))
		under := " "
		if cur < len(vis) {
			under = string(vis[cur])
		}
		b.WriteString(cursorView(st, under))
		if cur < len(vis) {
			b.WriteString(string(vis[cur+1:]))
		}
	}
	return b.String()
}
