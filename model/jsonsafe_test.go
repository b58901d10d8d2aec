package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCheckJSONDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, c := range []struct {
		in   string
		ok   bool
		want string
	}{
		{`{}`, true, ""},
		{nest(MaxJSONDepth), true, ""},
		{nest(MaxJSONDepth + 1), false, "line 1, column 129"},
		{nest(10000), false, "more than 128 levels"},
		{`{"a":"` + strings.Repeat("[", 500) + `"}`, true, ""},   // brackets in a string
		{`{"a":"\"` + strings.Repeat("{", 500) + `"}`, true, ""}, // after an escaped quote
		{"{\n \"a\": " + nest(200) + "}", false, "line 2, column"},
	} {
		err := CheckJSONDepth([]byte(c.in), MaxJSONDepth)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckJSONDepth(%.40q…) = %v, want ok=%v %q", c.in, err, c.ok, c.want)
		}
	}
}

// Invalid UTF-8 inside strings becomes \ufffd, byte for byte what
// encoding/json writes for the same Go string.
func TestValidUTF8JSON(t *testing.T) {
	for _, s := range []string{"x\xffy", "\xc3", "ok é ✓", "a\xed\xa0\x80b", "\xf0\x9f\x98", "\x80\x80"} {
		want, _ := json.Marshal(s)
		raw, _ := json.Marshal(map[string]string{"k": "K"})
		raw = []byte(strings.Replace(string(raw), `"K"`, `"`+s+`"`, 1))
		got := ValidUTF8JSON(raw)
		if !utf8.Valid(got) || !json.Valid(got) {
			t.Errorf("%q: result %q is not valid UTF-8 JSON", s, got)
		}
		if wantDoc := `{"k":` + string(want) + `}`; string(got) != wantDoc {
			t.Errorf("%q: got %s, want %s", s, got, wantDoc)
		}
	}
	valid := []byte(`{"a":"é"}`)
	if got := ValidUTF8JSON(valid); &got[0] != &valid[0] {
		t.Error("valid UTF-8 was copied")
	}
}

// A notification is valid UTF-8 JSON whatever the vendor sent, and the
// event keeps the vendor's bytes; a body or record nested too deep is left
// out of raw. (Strict receivers answered 400 for ever.)
func TestPayloadIsAlwaysValidJSON(t *testing.T) {
	in := Instance{ID: 3, Name: "x", ElementKey: "closeio"}
	bad := []byte("{\"event\":{\"id\":\"ev_1\",\"data\":{\"name\":\"Caf\xe9 \xff\"}}}")
	orig := append([]byte(nil), bad...)
	deep := []byte(`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		group []Event
		want  string
	}{
		{"webhook", []Event{{ID: "1", Source: SourceWebhook, Raw: bad}}, `"Caf\ufffd \ufffd"`},
		{"polling", []Event{{ID: "1", Source: SourcePolling, ObjectType: "leads", Raw: bad}, {ID: "2", Source: SourcePolling, ObjectType: "leads", Raw: deep}}, `"Caf\ufffd \ufffd"`},
		{"deep webhook", []Event{{ID: "1", Source: SourceWebhook, Raw: deep}}, `"raw":null`},
	} {
		body, err := Payload(in, "n1", now, c.group)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(body) || !json.Valid(body) || CheckJSONDepth(body, MaxJSONDepth+2) != nil {
			t.Errorf("%s: the notification is not valid UTF-8 JSON within the depth limit: %q", c.name, body)
		}
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%s: notification %s lacks %s", c.name, body, c.want)
		}
	}
	if string(bad) != string(orig) {
		t.Error("the event's raw bytes were changed")
	}
}

// The receiver scans every webhook body for its depth before the vendor's
// normalizer parses it; the scan is compared with json.Valid, a pass over
// the same body that the receiver's cost already dwarfs.
func BenchmarkCheckJSONDepth(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", "pipedrive-v2-update-person.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("depth scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if CheckJSONDepth(body, MaxJSONDepth) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("json.Valid baseline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !json.Valid(body) {
				b.Fatal("invalid")
			}
		}
	})
}
