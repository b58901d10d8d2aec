package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// vitalMarks make a line one the user must read whole: an error, a key
// hint, a remedy ("— esc clears it", "press n", "start … with").
var vitalMarks = []string{"✗", "error", "Error", "failed", "problem", " — ", "press ", "esc ", "ctrl+", " • ", "start ", "run "}

// cutVitalLines returns the lines of frame that were cut to the width (they
// end in the truncation's "…" at the right edge) and carry a vital mark.
// A value cut in a table cell is allowed; an error, a key hint or a remedy
// cut is not: wrap it, or make room.
func cutVitalLines(frame string, w int) []string {
	var bad []string
	for _, l := range splitLines(frame) {
		plain := ansi.Strip(l)
		trimmed := strings.TrimRight(plain, " ")
		// Cut at the edge by truncate, or by the help's own " …" tail,
		// which drops whole keys and so ends short of the edge.
		atEdge := strings.HasSuffix(trimmed, "…") && ansi.StringWidth(trimmed) >= w-1
		if !atEdge && !strings.HasSuffix(trimmed, " …") {
			continue
		}
		for _, m := range vitalMarks {
			if strings.Contains(plain, m) {
				bad = append(bad, trimmed)
				break
			}
		}
	}
	return bad
}

// checkNothingVitalCut fails the test for every vital line cut in frame.
func checkNothingVitalCut(t *testing.T, frame string, w int) {
	t.Helper()
	for _, l := range cutVitalLines(frame, w) {
		t.Errorf("a line carrying an error, key hint or remedy is cut at %d columns: %q", w, l)
	}
}

// The check itself: it must catch a cut hint and a cut error, and let a
// cut table value and a short line ending in "…" pass.
func TestCutVitalLines(t *testing.T) {
	w := 40
	frame := strings.Join([]string{
		truncate(" enter detail • e edit • d delete • p poller • P poll now", w),
		truncate("✗ must be an absolute http or https URL with a host", w),
		truncate("▸ 15:08:26 404  …/closeio/OTk=  no instance 99  203.0.113.9:4711", w),
		" polling #1 Pipedrive polling…",
		" y copy • e edit • p poller …",
	}, "\n")
	got := cutVitalLines(frame, w)
	if len(got) != 3 || !strings.Contains(got[0], "enter detail") || !strings.Contains(got[1], "must be") || !strings.Contains(got[2], "p poller") {
		t.Fatalf("cut vital lines = %q", got)
	}
}
