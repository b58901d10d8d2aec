package vendorjson

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	``, ` `, `{}`, `[]`, ` {"a" : [1, -2.5e+3, 0, true, false, null, "x\u00e9\n\"\\\/\b\f\r\t"]} `,
	`{"a":1,}`, `[1,]`, `{,}`, `[,1]`, `{"a"}`, `{"a":}`, `{1:2}`, `{"a":1 "b":2}`, `[1 2]`, `{"a":1]`, `[1}`,
	`01`, `-`, `-0`, `-01`, `1.`, `1.e5`, `.5`, `1e`, `1e+`, `1E-7`, `+1`, `0x1`, `1.5e3.2`, `Infinity`, `NaN`,
	`tru`, `truex`, `nul`, `nulll`, `True`, `"abc`, `"a\x"`, `"\u12"`, `"\u12G4"`, "\"a\x01\"", "\"\xff\xfe\"",
	"\t\n\r 1 \r\n", "1\v", "\xef\xbb\xbf{}", `{}}`, `[]]`, `"a"b`, `{"a":{"b":{"c":[[[]]]}}}`,
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70), strings.Repeat("[", 70) + strings.Repeat("]", 69),
}

func TestValidMatchesJSONValid(t *testing.T) {
	for _, in := range validSeeds {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%.80q) = %v, json.Valid = %v", in, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, in := range append(validSeeds, objectSeeds...) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", in, got, want)
		}
	})
}
