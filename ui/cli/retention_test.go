package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 0, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1h", time.Hour, false},
		{"59m", 0, true}, // a typo for days must not wipe the history
		{"7", 0, true},
		{"d", 0, true},
		{"-2d", 0, true},
		{"seven days", 0, true},
		{"99999999d", 0, true},
	} {
		got, err := parseRetention(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), `--retention "`+c.in+`": use a duration of at least 1h`) {
			t.Errorf("parseRetention(%q) error %q does not say what is allowed", c.in, err)
		}
	}
}
