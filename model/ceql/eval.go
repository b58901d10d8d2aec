package ceql

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Eval is true when every term is; it stops at the first false one.
func (e *And) Eval(record map[string]any) bool {
	for _, t := range e.Terms {
		if !t.Eval(record) {
			return false
		}
	}
	return true
}

// Eval is true when any term is; it stops at the first true one.
func (e *Or) Eval(record map[string]any) bool {
	for _, t := range e.Terms {
		if t.Eval(record) {
			return true
		}
	}
	return false
}

// Eval compares the field with the literal under the rules of Expr.Eval. A
// missing or null field, or one holding an object or array, fails every
// operator, != included, as in SQL.
func (e *Compare) Eval(record map[string]any) bool {
	v, ok := lookup(record, e.Field)
	if !ok {
		return false
	}
	text, ok := scalarText(v)
	if !ok {
		return false
	}
	c := compareText(text, e.Value.Text)
	switch e.Op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Lt:
		return c < 0
	case Gt:
		return c > 0
	case Le:
		return c <= 0
	case Ge:
		return c >= 0
	}
	return false
}

// Eval is true when the field equals one of the values under Eq's rules.
func (e *In) Eval(record map[string]any) bool {
	v, ok := lookup(record, e.Field)
	if !ok {
		return false
	}
	text, ok := scalarText(v)
	if !ok {
		return false
	}
	for _, l := range e.Values {
		if compareText(text, l.Text) == 0 {
			return true
		}
	}
	return false
}

// Eval matches the field's text (numbers and booleans as JSON writes them)
// against the pattern; a null, missing or non-scalar field never matches.
func (e *Like) Eval(record map[string]any) bool {
	v, ok := lookup(record, e.Field)
	if !ok {
		return false
	}
	text, ok := scalarText(v)
	if !ok {
		return false
	}
	return likeMatch(text, e.Pattern)
}

// Eval reports whether the field is missing or JSON null (negated by Not).
func (e *IsNull) Eval(record map[string]any) bool {
	v, ok := lookup(record, e.Field)
	isNull := !ok || v == nil
	return isNull != e.Not
}

// lookup follows a dotted path through nested objects, and through arrays
// when a segment is an index ("emails.0.email"). At each object it first
// tries the whole remaining path as one key, so a vendor key that itself
// contains dots is still reachable. A JSON null is returned as (nil, true).
func lookup(record map[string]any, path string) (any, bool) {
	var cur any = record
	rest := path
	for {
		seg, tail, more := strings.Cut(rest, ".")
		switch c := cur.(type) {
		case map[string]any:
			if v, ok := c[rest]; ok {
				return v, true
			}
			if !more {
				return nil, false
			}
			v, ok := c[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := index(seg)
			if !ok || i >= len(c) {
				return nil, false
			}
			if !more {
				return c[i], true
			}
			cur = c[i]
		default:
			return nil, false
		}
		rest = tail
	}
}

// index parses an array index: ASCII digits only, so "+1" and "-1" are
// not indexes.
func index(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// scalarText gives a record value the text a comparison works on. Numbers
// keep their JSON spelling (float64 in shortest round-trip form) so that
// they compare exactly as decimals. Nulls, objects and arrays have no text.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	}
	return "", false
}

// compareText orders a record value against a literal: as instants when
// both are timestamps (vendors write dates differently from the literal),
// else as exact decimals when both are numbers (ids arrive as strings or
// numbers), else as byte strings.
func compareText(a, b string) int {
	if ta, ok := parseTime(a); ok {
		if tb, ok := parseTime(b); ok {
			return ta.Compare(tb)
		}
	}
	if da, ok := parseDecimal(a); ok {
		if db, ok := parseDecimal(b); ok {
			return da.compare(db)
		}
	}
	return strings.Compare(a, b)
}

// timeLayouts are the timestamp spellings recognised. time.Parse accepts a
// fractional second after the seconds field even when the layout has
// none, which covers Close's microseconds and Pipedrive's whole seconds.
// Layouts without an offset parse as UTC.
var timeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05",
}

// parseTime recognises RFC 3339 (fraction and offset optional, 'T' or a
// space between date and time), "yyyy-MM-dd HH:mm:ss" and "yyyy-MM-dd".
func parseTime(s string) (time.Time, bool) {
	// Cheap shape check first: most compared values are not dates.
	if len(s) < 10 || !isDigit(s[0]) || !isDigit(s[3]) || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	if len(s) == 10 {
		t, err := time.Parse("2006-01-02", s)
		return t, err == nil
	}
	if len(s) < 19 || (s[10] != 'T' && s[10] != ' ') {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if l[10] != s[10] {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decimal is an exact number: the value is ±0.digits × 10^exp, with digits
// free of leading and trailing zeros (empty for zero). Comparing this way
// avoids float64 rounding, which would make 64-bit ids such as
// 9007199254740993 and 9007199254740992 equal.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// maxExp bounds the exponent we track; beyond it a number is absurd and
// saturating keeps the arithmetic from overflowing.
const maxExp = 1 << 40

// parseDecimal accepts [+-]digits[.digits][e[+-]digits], also ".5" and
// "5." as JSON producers sometimes do, but not "NaN", "Inf" or hex, which
// strconv.ParseFloat would.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fs:i]
	}
	if intPart == "" && frac == "" {
		return d, false
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			if exp < maxExp {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == es {
			return d, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, false
	}
	all := intPart + frac
	lead := 0
	for lead < len(all) && all[lead] == '0' {
		lead++
	}
	all = strings.TrimRight(all[lead:], "0")
	if all == "" {
		return decimal{}, true // zero: sign does not matter
	}
	d.digits = all
	d.exp = exp + int64(len(intPart)) - int64(lead)
	return d, true
}

// compare returns -1, 0 or +1 as d is less than, equal to or greater than o.
func (d decimal) compare(o decimal) int {
	ds, os := d.sign(), o.sign()
	if ds != os {
		if ds < os {
			return -1
		}
		return 1
	}
	if ds == 0 {
		return 0
	}
	c := 0
	switch {
	case d.exp != o.exp:
		if d.exp < o.exp {
			c = -1
		} else {
			c = 1
		}
	default:
		// Same magnitude order: digit strings without trailing zeros
		// order like the fractions they stand for.
		c = strings.Compare(d.digits, o.digits)
	}
	return c * ds
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// likeMatch reports whether s matches the LIKE pattern. '_' consumes one
// character (a rune, so "é" is one), '%' any run. It backtracks only to
// the last '%', which keeps it O(len(s)·len(pattern)) instead of
// exponential on patterns like '%a%a%a%b'.
func likeMatch(s, pattern string) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(pattern) {
			switch pattern[pi] {
			case '%':
				starP, starS = pi, si
				pi++
				continue
			case '_':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			default:
				_, pn := utf8.DecodeRuneInString(pattern[pi:])
				_, sn := utf8.DecodeRuneInString(s[si:])
				if pn == sn && pattern[pi:pi+pn] == s[si:si+sn] {
					si += sn
					pi += pn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '%' swallow one more character and retry.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si = starS
		pi = starP + 1
	}
	for pi < len(pattern) && pattern[pi] == '%' {
		pi++
	}
	return pi == len(pattern)
}
