package timefmt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is what one compiled piece of a pattern stands for.
type kind uint8

const (
	kLiteral kind = iota
	kYear
	kMonth     // M, MM
	kMonthText // MMM, MMMM
	kDay
	kHour24
	kHour12
	kMinute
	kSecond
	kFrac
	kAmPm
	kWeekday
	kZoneX
	kZoneZ
	kZoneName
)

// numeric reports whether a piece reads digits; runs of these abut, which
// changes how many digits each may take when parsing.
func (k kind) numeric() bool {
	switch k {
	case kYear, kMonth, kDay, kHour24, kHour12, kMinute, kSecond, kFrac:
		return true
	}
	return false
}

// maxDigits bounds numeric runs so a parsed value always fits an int and a
// fraction never exceeds nanoseconds.
const maxDigits = 9

type token struct {
	kind   kind
	n      int    // run length of the pattern letter
	letter byte   // the pattern letter, for messages
	lit    string // kLiteral only
}

// Pattern is a compiled Java SimpleDateFormat pattern. It is immutable and
// safe for concurrent use.
type Pattern struct {
	src    string
	tokens []token
}

// allowedLetters is quoted in errors so a user sees the whole vocabulary at
// once rather than discovering it one rejected letter at a time.
const allowedLetters = "y M d H h m s S a E X Z z and quoted literals"

// Compile parses a Java SimpleDateFormat pattern. Letters outside the
// supported set are rejected rather than copied, because Java would give
// them a meaning and silently getting it wrong is worse than refusing.
func Compile(pattern string) (*Pattern, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty date pattern (want e.g. yyyy-MM-dd'T'HH:mm:ssXXX)")
	}
	p := &Pattern{src: pattern}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.tokens = append(p.tokens, token{kind: kLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			start := i
			i++
			closed := false
			for i < len(pattern) {
				if pattern[i] == '\'' {
					if i+1 < len(pattern) && pattern[i+1] == '\'' {
						lit.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				lit.WriteByte(pattern[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quote at position %d of date pattern %q (close literal text with ', write '' for a quote)", runePos(pattern, start), pattern)
			}
		case isASCIILetter(c):
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			t, problem, allowed := letterToken(c, n)
			if problem != "" {
				return nil, fmt.Errorf("%s at position %d of date pattern %q (allowed: %s)", problem, runePos(pattern, i), pattern, allowed)
			}
			flush()
			p.tokens = append(p.tokens, t)
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return p, nil
}

// mustCompile is for patterns fixed in this package's source.
func mustCompile(pattern string) *Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic("timefmt: " + err.Error())
	}
	return p
}

// letterToken returns the token for a run of n letters c, or a problem and
// what is allowed instead.
func letterToken(c byte, n int) (t token, problem, allowed string) {
	t = token{letter: c, n: n}
	switch c {
	case 'y':
		t.kind = kYear
	case 'M':
		t.kind = kMonth
		if n >= 3 {
			t.kind = kMonthText
		}
	case 'd':
		t.kind = kDay
	case 'H':
		t.kind = kHour24
	case 'h':
		t.kind = kHour12
	case 'm':
		t.kind = kMinute
	case 's':
		t.kind = kSecond
	case 'S':
		t.kind = kFrac
	case 'a':
		t.kind = kAmPm
	case 'E':
		t.kind = kWeekday
	case 'X':
		t.kind = kZoneX
		if n > 3 {
			return t, fmt.Sprintf("pattern letter 'X' repeated %d times", n), "X, XX or XXX"
		}
	case 'Z':
		t.kind = kZoneZ
	case 'z':
		t.kind = kZoneName
	default:
		return t, fmt.Sprintf("unsupported pattern letter '%c'", c), allowedLetters
	}
	if t.kind.numeric() && n > maxDigits {
		return t, fmt.Sprintf("pattern letter '%c' repeated %d times", c, n), fmt.Sprintf("at most %d", maxDigits)
	}
	return t, "", ""
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool       { return '0' <= c && c <= '9' }

// runePos turns a byte offset into the 1-based character position people
// count when they look at the text.
func runePos(s string, off int) int { return utf8.RuneCountInString(s[:off]) + 1 }

// String returns the pattern as it was written.
func (p *Pattern) String() string { return p.src }

// Format writes t, in t's own location, the way the pattern says.
func (p *Pattern) Format(t time.Time) string {
	b := make([]byte, 0, len(p.src)+16)
	for _, tok := range p.tokens {
		b = tok.append(b, t)
	}
	return string(b)
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

func (tok token) append(b []byte, t time.Time) []byte {
	switch tok.kind {
	case kLiteral:
		return append(b, tok.lit...)
	case kYear:
		y := t.Year()
		if tok.n == 2 {
			// Java truncates to the last two digits, whatever the sign.
			return appendPadded(b, abs(y)%100, 2)
		}
		if y < 0 {
			b = append(b, '-')
			y = -y
		}
		return appendPadded(b, y, tok.n)
	case kMonth:
		return appendPadded(b, int(t.Month()), tok.n)
	case kMonthText:
		name := monthNames[t.Month()-1]
		if tok.n == 3 {
			name = name[:3]
		}
		return append(b, name...)
	case kDay:
		return appendPadded(b, t.Day(), tok.n)
	case kHour24:
		return appendPadded(b, t.Hour(), tok.n)
	case kHour12:
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return appendPadded(b, h, tok.n)
	case kMinute:
		return appendPadded(b, t.Minute(), tok.n)
	case kSecond:
		return appendPadded(b, t.Second(), tok.n)
	case kFrac:
		// Truncate rather than round: rounding could carry into the seconds
		// and make a formatted time later than the real one.
		var digits [9]byte
		ns := t.Nanosecond()
		for i := 8; i >= 0; i-- {
			digits[i] = byte('0' + ns%10)
			ns /= 10
		}
		return append(b, digits[:tok.n]...)
	case kAmPm:
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case kWeekday:
		name := dayNames[t.Weekday()]
		if tok.n < 4 {
			name = name[:3]
		}
		return append(b, name...)
	case kZoneX:
		_, off := t.Zone()
		if off/60 == 0 {
			return append(b, 'Z')
		}
		return appendOffset(b, off, tok.n >= 2, tok.n == 3)
	case kZoneZ:
		_, off := t.Zone()
		return appendOffset(b, off, true, false)
	case kZoneName:
		name, off := t.Zone()
		if name != "" && isAllLetters(name) {
			return append(b, name...)
		}
		// Numeric or missing abbreviations (tzdata's "+03", fixed zones)
		// are written the way Java writes a custom zone, which Parse reads.
		b = append(b, "GMT"...)
		if off/60 == 0 {
			return b
		}
		return appendOffset(b, off, true, true)
	}
	return b
}

// appendOffset writes ±HH, ±HHMM or ±HH:MM. Seconds of historical offsets
// are dropped, as Java does.
func appendOffset(b []byte, off int, minutes, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	off /= 60
	b = append(b, sign)
	b = appendPadded(b, off/60, 2)
	if !minutes {
		return b
	}
	if colon {
		b = append(b, ':')
	}
	return appendPadded(b, off%60, 2)
}

func appendPadded(b []byte, v, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func isAllLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIILetter(s[i]) {
			return false
		}
	}
	return true
}
