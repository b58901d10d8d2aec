package timefmt

import (
	"fmt"
	"strings"
	"time"
)

// ParseError says where a value stopped matching its pattern, so a warning
// can point at the exact character a vendor sent differently.
type ParseError struct {
	Value   string // the text being parsed
	Pattern string // the pattern it was parsed with
	Pos     int    // 1-based character position in Value
	Reason  string // what was expected there and what was found
}

// Error names the value, the pattern, the position and the reason, which is
// everything a poller status line needs.
func (e *ParseError) Error() string {
	return fmt.Sprintf("cannot parse %q as %q: at position %d, %s", e.Value, e.Pattern, e.Pos, e.Reason)
}

// fields collects what a parse has read before the time is assembled, so
// that h and a can arrive in either order.
type fields struct {
	year, month, day   int
	dayPos             int // where the day was read, for "no such day" errors
	hour, min, sec, ns int
	hour12             int
	has24, has12       bool
	pm                 int // -1 unset, 0 AM, 1 PM
	zone               *time.Location
}

// Parse reads s with the pattern. Fields the pattern lacks take Java's
// defaults (1970-01-01 00:00:00). The result is in loc (UTC when nil) unless
// the pattern carries a zone, in which case it is in that zone: UTC for a
// zero offset, otherwise a fixed zone. h without a reads as AM, and H wins
// over h. Parsing is strict about ranges
// (no month 13, no February 30) so that a near miss falls back visibly
// instead of producing a wrong date.
func (p *Pattern) Parse(s string, loc *time.Location) (time.Time, error) {
	f := fields{year: 1970, month: 1, day: 1, pm: -1}
	pos := 0
	fail := func(at int, format string, args ...any) (time.Time, error) {
		return time.Time{}, &ParseError{Value: s, Pattern: p.src, Pos: runePos(s, at), Reason: fmt.Sprintf(format, args...)}
	}
	for i, tok := range p.tokens {
		abut := p.abutsDigits(i, tok.kind == kZoneX || tok.kind == kZoneZ || tok.kind == kZoneName)
		switch tok.kind {
		case kLiteral:
			if !strings.HasPrefix(s[pos:], tok.lit) {
				return fail(pos, "expected %q, found %s", tok.lit, found(s, pos))
			}
			pos += len(tok.lit)
		case kMonthText:
			m, n := matchName(s[pos:], monthNames[:], tok.n < 4 && p.abutsLetters(i))
			if n == 0 {
				return fail(pos, "expected month name (Jan-Dec or January-December), found %s", found(s, pos))
			}
			f.month = m + 1
			pos += n
		case kWeekday:
			// The day name is checked for spelling but, as in Java, the
			// date fields decide the date.
			_, n := matchName(s[pos:], dayNames[:], tok.n < 4 && p.abutsLetters(i))
			if n == 0 {
				return fail(pos, "expected day name (Mon-Sun or Monday-Sunday), found %s", found(s, pos))
			}
			pos += n
		case kAmPm:
			switch rest := s[pos:]; {
			case len(rest) >= 2 && strings.EqualFold(rest[:2], "AM"):
				f.pm = 0
			case len(rest) >= 2 && strings.EqualFold(rest[:2], "PM"):
				f.pm = 1
			default:
				return fail(pos, "expected AM or PM, found %s", found(s, pos))
			}
			pos += 2
		case kZoneX, kZoneZ:
			loc, end, reason := parseOffset(s, pos, tok, abut)
			if reason != "" {
				return fail(pos, "%s, found %s", reason, found(s, pos))
			}
			f.zone, pos = loc, end
		case kZoneName:
			loc, end, reason := parseZoneName(s, pos, abut)
			if reason != "" {
				return fail(pos, "%s, found %s", reason, found(s, pos))
			}
			f.zone, pos = loc, end
		default: // numeric
			v, digits, end := readDigits(s, pos, tok, abut)
			switch {
			case digits == 0 || abut && digits < tok.n:
				if abut {
					return fail(pos, "expected %d-digit %s, found %s", tok.n, describe(tok), found(s, pos))
				}
				return fail(pos, "expected %s, found %s", describe(tok), found(s, pos))
			case end < len(s) && isDigit(s[end]) && !abut:
				return fail(pos, "too many digits for %s (at most %d)", describe(tok), maxDigits)
			}
			if tok.kind == kDay {
				f.dayPos = pos
			}
			if reason := f.set(tok, v, digits); reason != "" {
				return fail(pos, "%s", reason)
			}
			pos = end
		}
	}
	if pos < len(s) {
		return fail(pos, "unexpected text %s after the end of the pattern", found(s, pos))
	}
	return f.time(s, p.src, loc)
}

// abutsDigits reports whether the token after i starts with a digit, or,
// with colon set (for offsets, which may contain one), a colon. Java's rule
// for such abutting fields, which this follows, is that each one takes
// exactly its pattern width, so yyyyMMdd reads 20240305.
func (p *Pattern) abutsDigits(i int, colon bool) bool {
	if i+1 >= len(p.tokens) {
		return false
	}
	next := p.tokens[i+1]
	if next.kind.numeric() {
		return true
	}
	return next.kind == kLiteral && (isDigit(next.lit[0]) || colon && next.lit[0] == ':')
}

// abutsLetters reports whether the token after i could start with a letter
// that a longer name would swallow ("MMM'ch'" formats March as "March").
func (p *Pattern) abutsLetters(i int) bool {
	if i+1 >= len(p.tokens) {
		return false
	}
	next := p.tokens[i+1]
	if next.kind == kLiteral {
		return isASCIILetter(next.lit[0])
	}
	return !next.kind.numeric()
}

func readDigits(s string, pos int, tok token, abut bool) (v, digits, end int) {
	limit := maxDigits
	if abut {
		limit = tok.n
	}
	end = pos
	for end < len(s) && end-pos < limit && isDigit(s[end]) {
		v = v*10 + int(s[end]-'0')
		end++
	}
	return v, end - pos, end
}

// set stores one numeric field, checking its range so nonsense is caught at
// the position where it occurs.
func (f *fields) set(tok token, v, digits int) string {
	check := func(name string, lo, hi int) string {
		if v < lo || v > hi {
			return fmt.Sprintf("%s %d out of range (%d-%d)", name, v, lo, hi)
		}
		return ""
	}
	switch tok.kind {
	case kYear:
		f.year = v
		if tok.n == 2 && digits == 2 {
			// A fixed pivot instead of Java's "80 years before now", which
			// would make the result depend on the clock.
			if v >= 69 {
				f.year = 1900 + v
			} else {
				f.year = 2000 + v
			}
		}
	case kMonth:
		f.month = v
		return check("month", 1, 12)
	case kDay:
		f.day = v
		return check("day of month", 1, 31)
	case kHour24:
		f.hour, f.has24 = v, true
		return check("hour", 0, 23)
	case kHour12:
		f.hour12, f.has12 = v, true
		return check("hour", 0, 12)
	case kMinute:
		f.min = v
		return check("minute", 0, 59)
	case kSecond:
		f.sec = v
		return check("second", 0, 59)
	case kFrac:
		for i := digits; i < 9; i++ {
			v *= 10
		}
		f.ns = v
	}
	return ""
}

func (f *fields) time(s, pattern string, loc *time.Location) (time.Time, error) {
	if days := daysIn(f.year, f.month); f.day > days {
		return time.Time{}, &ParseError{Value: s, Pattern: pattern, Pos: runePos(s, f.dayPos),
			Reason: fmt.Sprintf("day %d does not exist in %s %d", f.day, time.Month(f.month), f.year)}
	}
	hour := f.hour
	if f.has12 && !f.has24 {
		hour = f.hour12 % 12
		if f.pm == 1 {
			hour += 12
		}
	}
	if f.zone != nil {
		loc = f.zone
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(f.year, time.Month(f.month), f.day, hour, f.min, f.sec, f.ns, loc), nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// matchName finds a full name or its three-letter abbreviation at the start
// of s, ignoring case. Like Java it accepts either form for either count,
// trying the full name first unless short is set, which the caller sets
// when letters follow that a full name could swallow.
func matchName(s string, names []string, short bool) (index, n int) {
	full := func() (int, int) {
		for i, name := range names {
			if len(s) >= len(name) && strings.EqualFold(s[:len(name)], name) {
				return i, len(name)
			}
		}
		return 0, 0
	}
	abbr := func() (int, int) {
		for i, name := range names {
			if len(s) >= 3 && strings.EqualFold(s[:3], name[:3]) {
				return i, 3
			}
		}
		return 0, 0
	}
	first, second := full, abbr
	if short {
		first, second = abbr, full
	}
	if i, n := first(); n > 0 {
		return i, n
	}
	return second()
}

// parseOffset reads Z, ±HH, ±HHMM or ±HH:MM. Any of them is accepted for any
// of X, XX, XXX and Z, since vendors mix the forms, except where the next
// pattern field starts with a digit or colon: there the pattern's own form
// is required so the offset cannot swallow the next field.
func parseOffset(s string, pos int, tok token, abut bool) (*time.Location, int, string) {
	want := "zone offset (Z, +HH, +HHMM or +HH:MM)"
	if abut {
		switch {
		case tok.kind == kZoneZ || tok.n == 2:
			want = "zone offset (+HHMM or Z)"
		case tok.n == 1:
			want = "zone offset (+HH or Z)"
		default:
			want = "zone offset (+HH:MM or Z)"
		}
	}
	if pos < len(s) && s[pos] == 'Z' {
		return time.UTC, pos + 1, ""
	}
	off, end, ok := readOffset(s, pos, tok, abut)
	if !ok {
		return nil, pos, "expected " + want
	}
	return offsetZone(off), end, ""
}

// readOffset reads a signed offset in seconds. Strict mode (abut) takes the
// form tok names; otherwise the minutes are optional with or without colon.
func readOffset(s string, pos int, tok token, abut bool) (off, end int, ok bool) {
	if pos >= len(s) || (s[pos] != '+' && s[pos] != '-') {
		return 0, pos, false
	}
	neg := s[pos] == '-'
	i := pos + 1
	two := func(at int) (int, bool) {
		if at+2 > len(s) || !isDigit(s[at]) || !isDigit(s[at+1]) {
			return 0, false
		}
		return int(s[at]-'0')*10 + int(s[at+1]-'0'), true
	}
	hh, ok := two(i)
	if !ok || hh > 23 {
		return 0, pos, false
	}
	i += 2
	mm := 0
	if abut {
		switch {
		case tok.kind == kZoneX && tok.n == 1:
		case tok.kind == kZoneX && tok.n == 3:
			if i >= len(s) || s[i] != ':' {
				return 0, pos, false
			}
			if mm, ok = two(i + 1); !ok {
				return 0, pos, false
			}
			i += 3
		default:
			if mm, ok = two(i); !ok {
				return 0, pos, false
			}
			i += 2
		}
	} else if i < len(s) && s[i] == ':' {
		if mm, ok = two(i + 1); !ok {
			return 0, pos, false
		}
		i += 3
	} else if m, ok := two(i); ok {
		mm = m
		i += 2
	}
	if mm > 59 {
		return 0, pos, false
	}
	off = (hh*60 + mm) * 60
	if neg {
		off = -off
	}
	return off, i, true
}

// offsetZone gives zero offsets as UTC so that equal instants from
// different spellings ("Z", "+00:00", "GMT") compare and print alike.
func offsetZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	return time.FixedZone("", off)
}

// zoneAbbrevs are the abbreviations z accepts: the US ones vendors actually
// emit. Wider sets are ambiguous (IST, BST, CST all mean several zones).
var zoneAbbrevs = []struct {
	name string
	off  int
}{
	{"UTC", 0}, {"GMT", 0},
	{"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
	{"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
}

func parseZoneName(s string, pos int, abut bool) (*time.Location, int, string) {
	const want = "expected zone name (UTC, GMT, GMT+hh:mm, EST, EDT, CST, CDT, MST, MDT, PST or PDT)"
	rest := s[pos:]
	for _, z := range zoneAbbrevs {
		if len(rest) < 3 || !strings.EqualFold(rest[:3], z.name) {
			continue
		}
		end := pos + 3
		if z.off == 0 {
			if end < len(s) && (s[end] == '+' || s[end] == '-') {
				off, e, ok := readOffset(s, end, token{kind: kZoneX, n: 3}, abut)
				if !ok {
					return nil, pos, want
				}
				return offsetZone(off), e, ""
			}
			return time.UTC, end, ""
		}
		return time.FixedZone(z.name, z.off*3600), end, ""
	}
	return nil, pos, want
}

// describe names a field the way an error message needs it.
func describe(tok token) string {
	name := map[kind]string{
		kYear: "year", kMonth: "month", kDay: "day of month", kHour24: "hour",
		kHour12: "hour", kMinute: "minute", kSecond: "second", kFrac: "fractional seconds",
	}[tok.kind]
	return name + " (" + strings.Repeat(string(tok.letter), tok.n) + ")"
}

// found quotes what is at pos, short enough for a one-line message.
func found(s string, pos int) string {
	if pos >= len(s) {
		return "end of input"
	}
	rest := s[pos:]
	n := 0
	for i := range rest {
		if n == 12 {
			rest = rest[:i] + "…"
			break
		}
		n++
	}
	return fmt.Sprintf("%q", rest)
}
