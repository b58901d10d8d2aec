package vendorjson

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// objectSeeds are objects of every shape whose decoding ValidObject must
// match json.Unmarshal's.
var objectSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, "{\n\t\"a\" :\r\n 1 ,\"b\":\"x\"}",
	`{"a":1,"a":2}`, `{"m\u0065ta":{"v":"2.0"},"meta":null}`,
	`{"k\"q":"v\\\"","e":"\u00e9\n","n":-1.5e+3,"t":true,"f":false,"z":null}`,
	`{"o":{"a":[1,{"b":"]}"},"}"]},"l":[[],{}],"s":"{["}`,
	"{\"caf\xc3\xa9\":\"bad \xff utf8\",\"\xfe\":1}",
	`{"id":12345678901234567890,"x":"a/b\/c"}`,
	`[1]`, `"s"`, `1`, `null`,
}

func checkValidObject(t *testing.T, in string) {
	want := map[string]string{}
	var wantObj Object
	// AsObject has always trimmed (Unicode) space before decoding.
	trimmed := bytes.TrimSpace([]byte(in))
	wantOK := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &wantObj) == nil
	for k, v := range wantObj {
		want[k] = string(v)
	}
	got, ok := AsObject(json.RawMessage(in))
	if ok != wantOK {
		t.Fatalf("AsObject(%q) ok = %v, json.Unmarshal ok = %v", in, ok, wantOK)
	}
	if !json.Valid(trimmed) {
		return
	}
	v, vok := ValidObject(json.RawMessage(in))
	if vok != ok || len(v) != len(got) {
		t.Fatalf("ValidObject(%q) = %v, %v; AsObject = %v, %v", in, v, vok, got, ok)
	}
	gotS := map[string]string{}
	for k, v := range got {
		gotS[k] = string(v)
	}
	if !maps.Equal(gotS, want) {
		t.Fatalf("AsObject(%q) = %q, json.Unmarshal = %q (keys %q)", in, gotS, want, slices.Sorted(maps.Keys(want)))
	}
	keys := []string{"a", "meta", "café", "k\"q"}
	picked, pok := ValidObject(json.RawMessage(in), keys...)
	wantPicked := map[string]string{}
	for _, k := range keys {
		if v, ok := want[k]; ok {
			wantPicked[k] = v
		}
	}
	gotPicked := map[string]string{}
	for k, v := range picked {
		gotPicked[k] = string(v)
	}
	if pok != ok || !maps.Equal(gotPicked, wantPicked) {
		t.Fatalf("ValidObject(%q, %q) = %q, %v; want %q", in, keys, gotPicked, pok, wantPicked)
	}
	for k, raw := range got {
		s1, ok1 := Scalar(raw)
		var s2 string
		ok2 := false
		if len(raw) > 0 && raw[0] == '"' {
			ok2 = json.Unmarshal(raw, &s2) == nil
		} else if s, ok := Scalar(raw); ok {
			s2, ok2 = s, true
		}
		if s1 != s2 || ok1 != ok2 {
			t.Fatalf("Scalar(%s) of key %q = %q, %v; json.Unmarshal %q, %v", raw, k, s1, ok1, s2, ok2)
		}
		if sub, ok := ValidObject(raw); ok {
			checkValidObject(t, string(raw))
			_ = sub
		}
	}
}

func TestValidObjectMatchesUnmarshal(t *testing.T) {
	for _, in := range objectSeeds {
		checkValidObject(t, in)
	}
}

func FuzzValidObject(f *testing.F) {
	for _, in := range objectSeeds {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkValidObject(t, in)
		ValidObject(json.RawMessage(in)) // invalid input must not panic
	})
}
