package vendorjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CheckJSON reports invalid JSON as an error wrapping *json.SyntaxError,
// worded "<vendor> webhook: invalid JSON: …", so callers can tell a broken
// body from one they merely do not understand. json.Unmarshal validates
// the whole input first, so truncation and trailing garbage are syntax
// errors too, with an offset.
func CheckJSON(vendor string, body []byte) error {
	if json.Valid(body) {
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
func AsObject(raw json.RawMessage) (Object, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var o Object
	if err := json.Unmarshal(t, &o); err != nil {
		return nil, false
	}
	return o, true
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
