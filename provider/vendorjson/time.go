package vendorjson

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a change time: an RFC 3339 string (with or without
// fraction or offset; no offset means UTC), "YYYY-MM-DD HH:MM:SS", or a unix
// number (or digit string) whose unit is guessed from its size. Anything
// else gives the zero time, because an event with an unknown date is still
// worth keeping.
func ParseTime(raw json.RawMessage) time.Time {
	s, ok := Scalar(raw)
	if !ok {
		return time.Time{}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	// A colon rules out every number strconv reads, and every date string
	// has one: skip the two failing parses (and their error values).
	if strings.IndexByte(s, ':') < 0 {
		if t, ok := parseUnix(s); ok {
			return t
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// timeLayouts are the string forms vendors use, most common first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// parseUnix reads a unix time: seconds, milliseconds, microseconds or
// nanoseconds by magnitude.
func parseUnix(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return unixGuess(n), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

// unixGuess picks the unit of an integer unix time by its size: every unit
// gives dates in a plausible range only at its own magnitude.
func unixGuess(n int64) time.Time {
	a := n
	if a < 0 {
		a = -a
	}
	switch {
	case a < 1e11:
		return time.Unix(n, 0).UTC()
	case a < 1e14:
		return time.UnixMilli(n).UTC()
	case a < 1e17:
		return time.UnixMicro(n).UTC()
	}
	return time.Unix(0, n).UTC()
}
