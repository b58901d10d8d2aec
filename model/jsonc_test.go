package model

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestStripJSONC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // strict JSON holding the same value
	}{
		{"strict JSON unchanged", `{"a": [1, 2], "b": {"c": null}}`, `{"a": [1, 2], "b": {"c": null}}`},
		{"line comments", "{\n  // the key\n  \"a\": 1, // trailing\n  \"b\": 2\n}// end", `{"a": 1, "b": 2}`},
		{"block comments", "{/* one */\"a\": /* two\n lines */ 1 /**/, \"b\": 2 /* * / */}", `{"a": 1, "b": 2}`},
		{"trailing comma in object", "{\"a\": 1,\n}", `{"a": 1}`},
		{"trailing comma in array", `{"a": [1, 2, ], "b": [[],],}`, `{"a": [1, 2], "b": [[]]}`},
		{"trailing comma before a comment", "{\"a\": [1, // one\n], \"b\": 2, /* last */\n}", `{"a": [1], "b": 2}`},
		{"comment-like text in strings", `{"url": "http://x.example.com//y", "c": "/* not a comment */", "d": "a, }"}`,
			`{"url": "http://x.example.com//y", "c": "/* not a comment */", "d": "a, }"}`},
		{"escaped quotes", `{"q": "say \"hi\" // still text", "r": "back\\", "s": "\\\"/*"} // c`,
			`{"q": "say \"hi\" // still text", "r": "back\\", "s": "\\\"/*"}`},
		{"escaped quote before comment-like text", `{"a": "\" // x", "b": "/* \" */", "c": [1,]}`, `{"a": "\" // x", "b": "/* \" */", "c": [1]}`},
		{"comma inside string before brace", `{"a": ","}`, `{"a": ","}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := StripJSONC([]byte(tc.in))
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("stripped text is not JSON: %v\n%s", JSONError(out, err), out)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if len(out) != len(tc.in) || bytes.Count(out, []byte("\n")) != strings.Count(tc.in, "\n") {
				t.Errorf("length or line structure changed:\n in %q\nout %q", tc.in, out)
			}
		})
	}
}

func TestStripJSONCCloseSeed(t *testing.T) {
	doc := []byte(fillSeed(seedCloseWebhook))
	if json.Valid(doc) {
		t.Fatal("the Close seed is expected to carry a trailing comma")
	}
	var req InstanceRequest
	if err := json.Unmarshal(StripJSONC(doc), &req); err != nil {
		t.Fatalf("Close seed after StripJSONC: %v", JSONError(doc, err))
	}
	if req.Element == nil || req.Element.Key != "closeio" || string(req.Configuration[KeyVendorType]) != `"webhook"` {
		t.Errorf("decoded %+v", req)
	}
}

func TestStripJSONCKeepsErrorPositions(t *testing.T) {
	src := "{\n" +
		"  /* a block\n" +
		"     comment */ \"a\": 1, // note\n" +
		"  \"b\": [1,],\n" +
		"  \"c\": tru\n" +
		"}\n"
	out := StripJSONC([]byte(src))
	var v any
	err := json.Unmarshal(out, &v)
	if err == nil {
		t.Fatal("want a syntax error")
	}
	// "tru" is at line 5; the error shows at the newline after it.
	if msg := JSONError(out, err).Error(); !strings.Contains(msg, "line 5, column 11") {
		t.Errorf("JSONError = %q, want line 5, column 11", msg)
	}
	src2 := "{ // c\n  \"a\": 1,\n  /* x */ \"b\" 2\n}"
	out2 := StripJSONC([]byte(src2))
	err = json.Unmarshal(out2, &v)
	if msg := JSONError(out2, err).Error(); !strings.Contains(msg, "line 3, column 15") {
		t.Errorf("JSONError = %q, want line 3, column 15 (the 2 after \"b\")", msg)
	}
}

func TestJSONError(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		into     any
		contains []string
	}{
		{"bad key on line 3", "{\n  \"a\": 1,\n  x: 2\n}", new(any), []string{"invalid JSON at line 3, column 3", "invalid character 'x'"}},
		{"missing comma on line 3", "{\n  \"a\": 1,\n  \"b\": [1, 2 3]\n}", new(any), []string{"line 3, column 14"}},
		{"first byte", "x", new(any), []string{"line 1, column 1"}},
		{"after CRLF lines", "{\r\n\"a\": 1,\r\n}", new(any), []string{"line 3, column 1"}},
		{"unexpected end", "{\n  \"a\": [1,\n", new(any), []string{"line 3, column 1", "unexpected end"}},
		{"wrong type on line 3", "{\n  \"a\": \"x\",\n  \"b\": 1\n}", new(map[string]string), []string{"wrong JSON type at line 3", "string", "number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := json.Unmarshal([]byte(tc.src), tc.into)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := JSONError([]byte(tc.src), err).Error()
			for _, s := range tc.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("JSONError = %q, want it to contain %q", msg, s)
				}
			}
		})
	}
	if err := JSONError(nil, nil); err != nil {
		t.Errorf("JSONError(nil) = %v", err)
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {3, 2, 1}, {4, 2, 2}, {7, 4, 1}, {9, 4, 3}, {100, 4, 3}} {
		if l, c := LineCol(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("LineCol(%d) = %d,%d want %d,%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}
