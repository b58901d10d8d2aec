package poll

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/ceql"
)

// recordKeys lists the top-level keys of a record that polling reads: those
// the idField, the date fields and the where clause reach. A dotted path
// contributes itself (vendors use dotted keys, which Lookup and the where
// clause try first) and its first segment.
func recordKeys(r model.PollerResource, where ceql.Expr) map[string]bool {
	paths := []string{r.IDField, r.Dates.UpdatedDateField, r.Dates.CreatedDateField}
	if where != nil {
		paths = append(paths, ceql.Fields(where)...)
	}
	keys := make(map[string]bool, 2*len(paths))
	for _, p := range paths {
		if p == "" {
			continue
		}
		keys[p] = true
		first, _, _ := strings.Cut(p, ".")
		keys[first] = true
	}
	return keys
}

// decodeRecord decodes the given top-level keys of a JSON object (numbers
// as json.Number), skipping the rest unparsed: a polled record is read for
// a few fields, and decoding all of it was most of a poll's work. The
// result is what a full decode would hold for those keys. Anything the
// quick scan does not handle (escaped keys, not an object, bad syntax)
// falls back to the full decode, which also reports the errors. raw must
// be valid JSON (every source's records come from a parsed page or are
// checked): values under other keys are skipped, not validated.
func decodeRecord(raw []byte, keys map[string]bool) (map[string]any, error) {
	if rec, ok := scanRecord(raw, keys); ok {
		return rec, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errNotObject
	}
	return rec, nil
}

var errNotObject = errors.New("not a JSON object")

// scanRecord is decodeRecord's quick path. The sources hand it JSON that
// was already validated as part of a page; it still checks the structure
// it walks and decodes wanted values strictly.
func scanRecord(b []byte, keys map[string]bool) (map[string]any, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	rec := make(map[string]any, len(keys))
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return rec, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end, escaped := stringEnd(b, i)
		if end < 0 || escaped {
			return nil, false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		vend := valueEnd(b, i)
		if vend < 0 {
			return nil, false
		}
		if keys[string(key)] {
			v, ok := scalarOrDecode(b[i:vend])
			if !ok {
				return nil, false
			}
			rec[string(key)] = v
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return rec, skipSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] == '"'
// (-1 if unterminated) and whether it holds a backslash escape.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// valueEnd returns the index after the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// scalarOrDecode decodes one value as a UseNumber decoder would, without
// the decoder for the common scalars.
func scalarOrDecode(v []byte) (any, bool) {
	switch c := v[0]; {
	case c == '"':
		if plainASCII(v) {
			return string(v[1 : len(v)-1]), true
		}
	case c == 'n' && string(v) == "null":
		return nil, true
	case c == 't' && string(v) == "true":
		return true, true
	case c == 'f' && string(v) == "false":
		return false, true
	case c == '-' || ('0' <= c && c <= '9'):
		if json.Valid(v) {
			return json.Number(v), true
		}
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil || dec.More() {
		return nil, false
	}
	return out, true
}

// plainASCII reports a quoted string of printable ASCII without escapes,
// whose content is its value; anything else goes through the decoder.
func plainASCII(v []byte) bool {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}
