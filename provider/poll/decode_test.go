package poll

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/ceql"
)

// fullDecode is what record() did before the quick scan: every key.
func fullDecode(raw []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		return nil, false
	}
	return rec, true
}

var decodeSeeds = []string{
	`{"id":1,"name":"Ada","update_time":"2026-03-01T10:01:00Z","add_time":"2026-03-01 10:01:00","emails":[{"value":"a@x","primary":true}]}`,
	` { "id" : "cont_x" , "date_updated" : "2026-03-01T10:00:00.000001+00:00", "nested": {"a": [1, "}", {"b": "]"}]}, "n": null } `,
	`{"id":-1.5e3,"name":"Ad\u00e1 \"q\"","odd.key":7,"flag":false,"t":true,"custom":{"x":{"y":[]}}}`,
	`{"id":9007199254740993,"name":"Zoë 日本","properties":{"lastmodifieddate":1772359260000}}`,
	`{"upd\u0061te_time":"2026-03-01T10:00:00Z","id":2}`,
	`{"id":1,"id":2}`,
	`{}`,
	`[1,2]`,
	`42`,
	`null`,
	`{"id":1`,
	`{"id":tru}`,
	`{"id":01}`,
	`{"name":"tab	inside"}`,
	"{\"name\":\"bad \xff utf8\",\"id\":3}",
}

// The quick scan gives, for the keys polling reads, exactly what a full
// decode gives, and fails where it fails.
func TestDecodeRecordMatchesFullDecode(t *testing.T) {
	r := model.PollerResource{IDField: "id", Dates: model.DatesConfig{UpdatedDateField: "update_time", CreatedDateField: "properties.lastmodifieddate"}}
	where, err := ceql.Parse(`name = 'Ada' AND emails.0.value IS NOT NULL OR odd.key > 1 OR flag = 'false' OR custom.x IS NULL OR n IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	keys := recordKeys(r, where)
	for _, k := range []string{"id", "update_time", "properties.lastmodifieddate", "properties", "name", "emails.0.value", "emails", "odd.key", "odd", "flag", "custom", "n"} {
		if !keys[k] {
			t.Errorf("recordKeys misses %q (has %v)", k, keys)
		}
	}
	for _, s := range decodeSeeds {
		if json.Valid([]byte(s)) {
			checkDecode(t, []byte(s), keys)
		} else if _, err := decodeRecord([]byte(s), keys); err == nil && s != `{"id":tru}` {
			// (an invalid value under a key polling reads is still caught)
			t.Errorf("%q: no error", s)
		}
	}
}

func checkDecode(t *testing.T, raw []byte, keys map[string]bool) {
	t.Helper()
	want, wantOK := fullDecode(raw)
	got, err := decodeRecord(raw, keys)
	if (err == nil) != wantOK {
		t.Fatalf("%q: decodeRecord err %v, full decode ok %v", raw, err, wantOK)
	}
	if !wantOK {
		return
	}
	// Keys polling does not read may be present or not (the fallback
	// decodes them all).
	for _, m := range []map[string]any{want, got} {
		for k := range m {
			if !keys[k] {
				delete(m, k)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", raw, got, want)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s, "id", "name")
	}
	f.Fuzz(func(t *testing.T, raw, k1, k2 string) {
		keys := map[string]bool{k1: true, k2: true}
		if !json.Valid([]byte(raw)) {
			// Sources hand over validated JSON only; here it must merely
			// not panic.
			_, _ = decodeRecord([]byte(raw), keys)
			return
		}
		checkDecode(t, []byte(raw), keys)
	})
}
