package vendorjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// CheckJSON reports invalid JSON as an error wrapping *json.SyntaxError,
// worded "<vendor> webhook: invalid JSON: …", so callers can tell a broken
// body from one they merely do not understand. json.Unmarshal validates
// the whole input first, so truncation and trailing garbage are syntax
// errors too, with an offset.
func CheckJSON(vendor string, body []byte) error {
	if Valid(body) {
		return nil
	}
	err := json.Unmarshal(body, new(json.RawMessage))
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%s webhook: invalid JSON: %w", vendor, syn)
	}
	if err == nil {
		err = errors.New("not valid JSON")
	}
	return fmt.Errorf("%s webhook: invalid JSON: %w", vendor, err)
}

// Object is a JSON object whose values stay raw, so numbers are never
// converted to float64 and big ids keep every digit.
type Object map[string]json.RawMessage

// AsObject decodes raw when it is a JSON object; otherwise ok is false.
// The values alias raw.
func AsObject(raw json.RawMessage) (Object, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return nil, false
	}
	return ValidObject(t)
}

// ValidObject is AsObject for raw already known to be valid JSON, such as a
// body CheckJSON accepted or a value taken from one: it does not validate
// again, which on a webhook's hot path costs more than the decoding. It
// gives what json.Unmarshal into an Object gives (keys unescaped, the last
// of duplicate keys wins), but the values alias raw. On invalid input it
// gives ok false or a partial object, never a panic.
//
// Keys, when given, limit the object to the members of those names: a
// caller that reads a few fields saves building the rest.
func ValidObject(raw json.RawMessage, keys ...string) (Object, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	o := Object{}
	i := skipSpace(t, 1)
	if i < len(t) && t[i] == '}' {
		return o, true
	}
	for i < len(t) && t[i] == '"' {
		kEnd := skipString(t, i)
		if kEnd < 0 {
			return nil, false
		}
		key, ok := objectKey(t[i:kEnd], keys)
		if !ok {
			return nil, false
		}
		if i = skipSpace(t, kEnd); i >= len(t) || t[i] != ':' {
			return nil, false
		}
		i = skipSpace(t, i+1)
		vEnd := skipValue(t, i)
		if vEnd < 0 {
			return nil, false
		}
		if key != skipKey {
			o[key] = json.RawMessage(t[i:vEnd:vEnd])
		}
		if i = skipSpace(t, vEnd); i < len(t) && t[i] == ',' {
			i = skipSpace(t, i+1)
			continue
		}
		if i < len(t) && t[i] == '}' {
			return o, true
		}
		return nil, false
	}
	return nil, false
}

func skipSpace(t []byte, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at t[i] ('"'),
// or -1.
func skipString(t []byte, i int) int {
	for i++; i < len(t); i++ {
		switch t[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at t[i], or -1.
func skipValue(t []byte, i int) int {
	if i >= len(t) {
		return -1
	}
	switch t[i] {
	case '"':
		return skipString(t, i)
	case '{', '[':
		depth := 0
		for ; i < len(t); i++ {
			switch t[i] {
			case '"':
				if i = skipString(t, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(t) {
		switch t[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// skipKey is what objectKey gives for a name not among the wanted keys: it
// cannot be a member name, since those are valid UTF-8 once unquoted.
const skipKey = "\xff"

// objectKey unquotes a member name; names with escapes or non-ASCII bytes
// go through json.Unmarshal so they read exactly as it reads them. With
// keys, a name not among them gives skipKey, and one among them the
// caller's string (saving an allocation).
func objectKey(q []byte, keys []string) (string, bool) {
	if plain(q) {
		in := q[1 : len(q)-1]
		if keys == nil {
			return string(in), true
		}
		for _, k := range keys {
			if k == string(in) {
				return k, true
			}
		}
		return skipKey, true
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return "", false
	}
	if keys != nil && !slices.Contains(keys, s) {
		return skipKey, true
	}
	return s, true
}

// plainString returns the text of the quoted JSON string q when it has
// no escapes and only printable ASCII: then json.Unmarshal would give
// exactly the bytes between the quotes.
func plainString(q []byte) (string, bool) {
	if !plain(q) {
		return "", false
	}
	return string(q[1 : len(q)-1]), true
}

func plain(q []byte) bool {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return false
	}
	for _, c := range q[1 : len(q)-1] {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Has reports whether key is present, even with a null value, because a
// body's shape is often told by which keys it has.
func (o Object) Has(key string) bool {
	_, ok := o[key]
	return ok
}

// Obj returns the value of key when it is an object.
func (o Object) Obj(key string) (Object, bool) { return AsObject(o[key]) }

// Str returns a string value, or a number's literal text (so the integer
// id 42 becomes "42", digit for digit). Other kinds give ok false.
func (o Object) Str(key string) (string, bool) { return Scalar(o[key]) }

// Text returns a JSON string value only, for keys whose meaning depends on
// being a string (a number there is a different shape of body).
func (o Object) Text(key string) (string, bool) {
	t := bytes.TrimSpace(o[key])
	if len(t) == 0 || t[0] != '"' {
		return "", false
	}
	return Scalar(t)
}

// Scalar returns raw's text when it is a string, or the literal text of a
// number, so ids keep every digit whichever way a vendor encodes them.
// Other kinds (null, bool, object, array) give ok false.
func Scalar(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "", false
	}
	switch c := t[0]; {
	case c == '"':
		if s, ok := plainString(t); ok {
			return s, true
		}
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
