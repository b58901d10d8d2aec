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

func TestParseLease(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 0, false},
		{"30s", 30 * time.Second, false},
		{"5s", 5 * time.Second, false},
		{"10m", 10 * time.Minute, false},
		{"4s", 0, true}, // renewals every 1.3 s per lane
		{"11m", 0, true},
		{"30", 0, true},
		{"-30s", 0, true},
	} {
		got, err := parseLease(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("parseLease(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), `--lease "`+c.in+`": use a duration from 5s to 10m,`) {
			t.Errorf("parseLease(%q) error %q does not say what is allowed", c.in, err)
		}
	}
}
