package timefmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Milliseconds is the datesConfiguration format meaning epoch milliseconds
// (HubSpot's convention) instead of a pattern.
const Milliseconds = "milliseconds"

// patternCache spares ParseValue a compile per record. Formats come from
// configurations, but a bound keeps odd callers from growing it forever.
var (
	patternCache     sync.Map // string → *Pattern
	patternCacheSize atomic.Int32
)

const patternCacheMax = 512

func cachedCompile(format string) (*Pattern, error) {
	if p, ok := patternCache.Load(format); ok {
		return p.(*Pattern), nil
	}
	p, err := Compile(format)
	if err != nil {
		return nil, err
	}
	if patternCacheSize.Load() < patternCacheMax {
		if _, loaded := patternCache.LoadOrStore(format, p); !loaded {
			patternCacheSize.Add(1)
		}
	}
	return p, nil
}

// ParseValue reads a record's date field as datesConfiguration describes it.
//
// v is a JSON-decoded value: string, float64, json.Number, int64 or int.
// format is a Java pattern, "milliseconds" (epoch milliseconds, as a number
// or numeric string), or "" for none configured (ISO 8601 text, epoch
// numbers). zone is given to LoadZone and applies to text without an
// offset; the result is in that zone unless the text carried its own.
//
// A value that does not match the format is not an error if it still reads
// as RFC 3339/ISO 8601 (with or without fraction, offset, or 'T'), or, for
// a number, as epoch time: then fellBack is true so the caller can warn that
// the configuration does not describe the data. Epoch numbers met by
// fallback are taken as seconds below 1e11 and milliseconds from there on
// (1e11 s is the year 5138; 1e11 ms is 1973), since vendors use both.
//
// A bad zone or pattern is an error, not a fallback: it is a configuration
// mistake every record would repeat.
func ParseValue(v any, format, zone string) (t time.Time, fellBack bool, err error) {
	loc, err := LoadZone(zone)
	if err != nil {
		return time.Time{}, false, err
	}
	format = strings.TrimSpace(format)
	millis := strings.EqualFold(format, Milliseconds)
	var pat *Pattern
	if format != "" && !millis {
		if pat, err = cachedCompile(format); err != nil {
			return time.Time{}, false, fmt.Errorf("date format: %w", err)
		}
	}

	text, num, isNum, err := valueText(v)
	if err != nil {
		return time.Time{}, false, err
	}
	// fellBack only means something when a format was configured.
	configured := format != ""

	if millis {
		if !isNum {
			if n, ok := parseNumber(text); ok {
				num, isNum = n, true
			}
		}
		if isNum {
			t, err := fromEpoch(num, true, loc)
			if err != nil {
				return time.Time{}, false, fmt.Errorf("date value %s with format %q: %w", text, format, err)
			}
			return t, false, nil
		}
	} else if pat != nil {
		t, perr := pat.Parse(text, loc)
		if perr == nil {
			return t, false, nil
		}
		err = perr
	}

	if t, ok := parseISO(text, loc); ok {
		return t, configured, nil
	}
	if !isNum {
		if n, ok := parseNumber(text); ok {
			num, isNum = n, true
		}
	}
	if isNum {
		if t, eerr := fromEpoch(num, false, loc); eerr == nil {
			return t, configured, nil
		}
	}

	var pe *ParseError
	switch {
	case millis:
		return time.Time{}, false, fmt.Errorf("date value %q is neither epoch milliseconds (format %q) nor RFC 3339/ISO 8601", text, format)
	case errors.As(err, &pe):
		return time.Time{}, false, fmt.Errorf("date value %q matches neither format %q (at position %d, %s) nor RFC 3339/ISO 8601", text, format, pe.Pos, pe.Reason)
	}
	return time.Time{}, false, fmt.Errorf("date value %q is neither RFC 3339/ISO 8601 nor an epoch number (no date format configured)", text)
}

// valueText normalizes the JSON value, keeping numbers exact where the
// decoder did (json.Number, integers) so millisecond values do not round.
func valueText(v any) (text string, num float64, isNum bool, err error) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), 0, false, nil
	case json.Number:
		n, ok := parseNumber(x.String())
		if !ok {
			return "", 0, false, fmt.Errorf("date value %q is not a number", x.String())
		}
		return x.String(), n, true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", 0, false, fmt.Errorf("date value %v is not a finite number", x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), x, true, nil
	case int64:
		return strconv.FormatInt(x, 10), float64(x), true, nil
	case int:
		return strconv.Itoa(x), float64(x), true, nil
	case nil:
		return "", 0, false, errors.New("date value is missing (null)")
	}
	return "", 0, false, fmt.Errorf("date value of type %T is neither text nor a number", v)
}

func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	// Only plain decimals: ParseFloat would also take "Inf", "0x1p3" and "1e3".
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && c != '.' && !(i == 0 && (c == '-' || c == '+')) {
			return 0, false
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && !math.IsInf(n, 0)
}

// maxEpochMillis is JavaScript's Date range (±100,000,000 days), ample for
// any record and far inside int64 nanoseconds' reach of time.Time.
const maxEpochMillis = 8.64e15

func fromEpoch(n float64, millis bool, loc *time.Location) (time.Time, error) {
	if !millis && math.Abs(n) < 1e11 {
		n *= 1000
	}
	if math.Abs(n) > maxEpochMillis {
		return time.Time{}, fmt.Errorf("epoch milliseconds %v out of range", n)
	}
	whole := math.Trunc(n)
	ns := math.Round((n - whole) * 1e6)
	return time.UnixMilli(int64(whole)).Add(time.Duration(ns)).In(loc), nil
}

// isoLayouts are tried in order when a value does not match its pattern.
// Go's parser accepts a fraction after the seconds even when the layout
// has none, so each line covers both.
var (
	isoWithZone = []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05Z07",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05Z0700",
		"2006-01-02 15:04:05Z07",
		"2006-01-02 15:04:05 Z07:00",
		"2006-01-02 15:04:05 Z0700",
		"2006-01-02T15:04Z07:00",
	}
	isoLocal = []string{
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	}
)

// parseISO reads RFC 3339 and the common ISO 8601 variants. Text without an
// offset is in loc. A parsed offset is normalized (UTC for zero, else a
// fixed zone) because Go would otherwise borrow the host's local zone name
// when the offsets happen to agree.
func parseISO(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	for _, layout := range isoWithZone {
		if t, err := time.Parse(layout, s); err == nil {
			_, off := t.Zone()
			return t.In(offsetZone(off)), true
		}
	}
	for _, layout := range isoLocal {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
