package model

import (
	"fmt"
	"unicode/utf8"
)

// MaxJSONDepth is how deeply a webhook body may nest arrays and objects.
// Vendors' bodies nest a handful of levels; parsers of receivers commonly
// stop somewhere between 100 and 1,000 (and a notification nests the body
// two levels deeper), so a deeper body is refused rather than forwarded to
// be refused downstream on every retry.
const MaxJSONDepth = 128

// CheckJSONDepth reports an error when data nests arrays and objects more
// than max levels deep, naming the line and column where it does. It does
// not otherwise validate data.
func CheckJSONDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				line, col := LineCol(data, int64(i))
				return fmt.Errorf("JSON nested more than %d levels deep at line %d, column %d; the limit is %d", max, line, col, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// ValidUTF8JSON returns JSON text data with every byte that is not part of
// valid UTF-8 replaced by the escape \ufffd, as encoding/json does when it
// encodes a string holding such bytes. data must be valid JSON syntax, so
// such bytes can only stand inside strings; valid UTF-8 is returned as it
// is. RFC 8259 requires UTF-8, and strict parsers refuse anything else.
func ValidUTF8JSON(data []byte) []byte {
	if utf8.Valid(data) {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
			i++
			continue
		}
		out = append(out, data[i:i+size]...)
		i += size
	}
	return out
}
