package closeio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// checkJSON reports invalid JSON as an error wrapping *json.SyntaxError
// (json.Unmarshal validates the whole input first, so truncation and
// trailing garbage are syntax errors too, with an offset).
func checkJSON(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	err := json.Unmarshal(body, new(json.RawMessage))
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%s webhook: invalid JSON: %w", ElementKey, syn)
	}
	if err == nil {
		err = errors.New("not valid JSON")
	}
	return fmt.Errorf("%s webhook: invalid JSON: %w", ElementKey, err)
}

// object is a JSON object whose values stay raw, so numbers are never
// converted to float64 and big ids keep every digit.
type object map[string]json.RawMessage

// asObject decodes raw when it is a JSON object; otherwise ok is false.
func asObject(raw json.RawMessage) (object, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var o object
	if err := json.Unmarshal(t, &o); err != nil {
		return nil, false
	}
	return o, true
}

func (o object) has(key string) bool {
	_, ok := o[key]
	return ok
}

func (o object) obj(key string) (object, bool) { return asObject(o[key]) }

// str returns a string value, or a number's literal text (so the integer id
// 42 becomes "42", digit for digit). Other kinds give ok false.
func (o object) str(key string) (string, bool) { return scalar(o[key]) }

// text returns a JSON string value only.
func (o object) text(key string) (string, bool) {
	t := bytes.TrimSpace(o[key])
	if len(t) == 0 || t[0] != '"' {
		return "", false
	}
	return scalar(t)
}

func scalar(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "", false
	}
	switch c := t[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(t, &s) != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(t), true
	}
	return "", false
}

// parseTime reads a change time: an RFC 3339 string (with or without
// fraction or offset; no offset means UTC), "YYYY-MM-DD HH:MM:SS", or a unix
// number (or digit string) whose unit is guessed from its size. Anything
// else gives the zero time.
func parseTime(raw json.RawMessage) time.Time {
	s, ok := scalar(raw)
	if !ok {
		return time.Time{}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, ok := parseUnix(s); ok {
		return t
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

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
