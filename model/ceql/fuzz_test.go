package ceql

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that String is a fixed
// point: whatever parses renders to text that parses back to the same
// rendering. Eval and the helpers must not panic on the result either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"update_time>'2024-01-02 03:04:05'",
		"a = 1 AND b = 2 OR c = 3",
		"(a=1 or b=2) and c=3",
		"a=1 and (b=2 or (c=3 and d='x'))",
		"status in ('open', 'won', 3)",
		"name like '%Acme_'",
		"owner.id is not null",
		"_info.lastUpdated >= '2019-01-15T12:48:23.391000+00:00'",
		"a='it''s'",
		"a >= -1.5e+3",
		"a <> true",
		"2fa.enabled = false",
		"emails.0.email LIKE '%@x.org'",
		"prénom = 'Zoë'",
		"a = 1)",
		"((((a=1",
		"a IN ()",
		"a = \"x\"",
		"a = -",
		"a. = 1",
		"",
		"NOT a = 1",
		strings.Repeat("(", MaxDepth+1) + "a=1",
	} {
		f.Add(s)
	}
	var rec map[string]any
	_ = json.Unmarshal([]byte(`{"a": 1, "b": "2024-01-02T03:04:05Z", "c": null, "d": {"e": [1, "x", true]}, "name": "Acme"}`), &rec)
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("error %T, want *SyntaxError", err)
			}
			if se.Pos < 0 || se.Pos > len(in) {
				t.Fatalf("Pos %d out of range [0, %d]", se.Pos, len(in))
			}
			return
		}
		s := e.String()
		e2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its rendering %q fails: %v", in, s, err)
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("rendering not stable:\n in  %q\n 1st %q\n 2nd %q", in, s, s2)
		}
		if e.Eval(rec) != e2.Eval(rec) {
			t.Fatalf("%q and its rendering %q evaluate differently", in, s)
		}
		for _, f := range Fields(e) {
			SinceBound(e, f)
		}
	})
}
