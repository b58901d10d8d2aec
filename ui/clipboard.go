package ui

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
)

// osc52Limit bounds what is sent: many terminals drop longer sequences
// (k9s uses the same ~75 kB guard).
const osc52Limit = 74994

// OSC52 copies through the terminal with an OSC 52 sequence, which works
// over SSH where no native clipboard tool exists. Inside tmux ($TMUX set)
// it sends the sequence twice: plain, which tmux takes into its paste
// buffer and forwards when set-clipboard is on, and wrapped in tmux's DCS
// passthrough (ESC P tmux; … ESC \), which reaches the outer terminal when
// allow-passthrough is on. Either setting is then enough.
type OSC52 struct {
	W io.Writer
	// Tmux wraps for tmux; set it from $TMUX.
	Tmux bool
	mu   sync.Mutex
}

// ErrTooLong means the text is over what terminals accept in one OSC 52.
var ErrTooLong = errors.New("too long for the terminal clipboard")

// Copy writes the sequence in one write, so it never interleaves with a
// frame the renderer writes to the same terminal.
func (o *OSC52) Copy(text string) error {
	seq := osc52Sequence(text)
	if len(seq) > osc52Limit {
		return ErrTooLong
	}
	if o.Tmux {
		seq += tmuxWrap(seq)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := io.WriteString(o.W, seq)
	return err
}

// osc52Sequence is ESC ] 52 ; c ; base64 BEL.
func osc52Sequence(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\a"
}

// tmuxWrap puts a sequence in tmux's passthrough: ESC P tmux; then the
// sequence with every ESC doubled, then ESC \.
func tmuxWrap(seq string) string {
	return "\x1bPtmux;" + strings.ReplaceAll(seq, "\x1b", "\x1b\x1b") + "\x1b\\"
}

// copyCmd runs the copy off the update loop and reports back.
func copyCmd(cb Clipboard, text, what string) tea.Cmd {
	return func() tea.Msg {
		if cb == nil {
			return copiedMsg{text: text, what: what, err: errors.New("no clipboard")}
		}
		return copiedMsg{text: text, what: what, err: cb.Copy(text)}
	}
}
