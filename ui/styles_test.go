package ui

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// xtermRGB is the colour of an ANSI-256 index from 16 up (the cube and
// the grey ramp; the first 16 depend on the terminal's theme).
func xtermRGB(t *testing.T, c string) [3]float64 {
	t.Helper()
	i, err := strconv.Atoi(c)
	if err != nil || i < 16 || i > 255 {
		t.Fatalf("colour %q is not a fixed ANSI-256 index", c)
	}
	if i >= 232 {
		g := float64(8 + 10*(i-232))
		return [3]float64{g, g, g}
	}
	i -= 16
	level := []float64{0, 95, 135, 175, 215, 255}
	return [3]float64{level[i/36], level[i/6%6], level[i%6]}
}

// contrast is the WCAG contrast ratio of two ANSI-256 colours.
func contrast(t *testing.T, a, b string) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			v /= 255
			if v <= 0.03928 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(xtermRGB(t, a)), lum(xtermRGB(t, b))
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// The selection bar reads well in both adaptive variants: light text on
// dark blue, dark text on light blue, bold.
func TestSelectedStyleReadable(t *testing.T) {
	th := DefaultTheme()
	for _, v := range []struct{ name, fg, bg string }{
		{"light", th.SelectedFg.Light, th.SelectedBg.Light},
		{"dark", th.SelectedFg.Dark, th.SelectedBg.Dark},
	} {
		if r := contrast(t, v.fg, v.bg); r < 7 {
			t.Errorf("%s theme: selected text %s on %s has contrast %.1f, want at least 7", v.name, v.fg, v.bg, r)
		}
	}
	if !DefaultStyles().Selected.GetBold() {
		t.Error("the selected row should be bold")
	}
}

// In colour, the selected row is one style from the marker to the right
// edge: no cell's own colour (a red "dead", a green "delivered") ends the
// bar's background early or puts a colour on it that does not read.
func TestSelectedRowInColour(t *testing.T) {
	defer func() {
		lipgloss.SetColorProfile(termenv.Ascii)
		lipgloss.SetHasDarkBackground(true)
	}()
	lipgloss.SetColorProfile(termenv.ANSI256)
	st := newStore(t)
	seed(t, st)
	failNotification(t, st, "1", 2)
	for _, c := range []struct {
		dark   bool
		fg, bg string
	}{{true, "38;5;231", "48;5;24"}, {false, "38;5;16", "48;5;153"}} {
		lipgloss.SetHasDarkBackground(c.dark)
		h := newHarness(t, st, 120, 32)
		h.key(":")
		h.typeText("deliveries")
		h.key("enter")
		var sel string
		for _, l := range splitLines(h.view()) {
			if strings.Contains(l, "▸") {
				sel = l
			}
		}
		if sel == "" {
			t.Fatalf("no selected row:\n%s", h.view())
		}
		if w := ansi.StringWidth(sel); w != 120 {
			t.Errorf("dark=%v: the bar is %d cells wide, want 120", c.dark, w)
		}
		if !strings.Contains(sel, c.fg) || !strings.Contains(sel, c.bg) {
			t.Errorf("dark=%v: selected row %q lacks %s and %s", c.dark, sel, c.fg, c.bg)
		}
		// One opening sequence and the final reset: nothing in between.
		if n := strings.Count(sel, "\x1b["); n != 2 || !strings.HasSuffix(sel, "\x1b[0m") {
			t.Errorf("dark=%v: selected row has %d escape sequences: %q", c.dark, n, sel)
		}
		if !strings.Contains(ansi.Strip(sel), "▸") || !strings.Contains(ansi.Strip(sel), " dead ") {
			t.Errorf("dark=%v: selected row %q", c.dark, ansi.Strip(sel))
		}
	}
}
