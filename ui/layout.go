package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

func lipglossWidth(s string) int { return lipgloss.Width(s) }

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat(" ", n)
}

// fitLines cuts or pads a block to exactly h lines of at most w cells, so
// the chrome below a screen never moves.
func fitLines(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = truncate(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// wrapIndented wraps text to the width left after indent cells and
// styles each line; messages people must read are wrapped, not cut.
func wrapIndented(style lipgloss.Style, text string, indent, width int) []string {
	w := max(10, width-indent-1)
	var out []string
	for _, l := range strings.Split(lipgloss.NewStyle().Width(w).Render(text), "\n") {
		out = append(out, spaces(indent)+style.Render(strings.TrimRight(l, " ")))
	}
	return out
}

// wrapHard breaks s into lines of at most w cells, at most max lines, the
// last one cut with an ellipsis if s is longer still. It prefers to break
// after a '?' or '&' so a URL's parameters stay whole.
func wrapHard(s string, w, max int) []string {
	if w < 1 {
		w = 1
	}
	var out []string
	rs := []rune(s)
	for len(rs) > 0 && len(out) < max {
		n := min(w, len(rs))
		if n < len(rs) {
			for i := n - 1; i > n/3; i-- {
				if rs[i] == '&' || rs[i] == '?' {
					n = i + 1
					break
				}
			}
		}
		out = append(out, string(rs[:n]))
		rs = rs[n:]
	}
	if len(rs) > 0 && len(out) > 0 {
		out[len(out)-1] = truncate(out[len(out)-1]+string(rs), w)
	}
	return out
}
