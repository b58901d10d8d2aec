package model

import (
	"reflect"
	"testing"
)

func TestDiffJSON(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []Change
	}{
		{"same", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, nil},
		{"changed field deep inside", `{"data":{"name":"Ann","org":{"id":1}}}`, `{"data":{"name":"Ann","org":{"id":2}}}`,
			[]Change{{Path: "$.data.org.id", Kind: Changed, Old: "1", New: "2"}}},
		{"added and removed keys, sorted by path", `{"b":1,"c":true}`, `{"a":"x","b":1}`,
			[]Change{{Path: "$.a", Kind: Added, New: `"x"`}, {Path: "$.c", Kind: Removed, Old: "true"}}},
		{"array grows and an element changes", `{"emails":["a@x"]}`, `{"emails":["b@x","c@x"]}`,
			[]Change{{Path: "$.emails[0]", Kind: Changed, Old: `"a@x"`, New: `"b@x"`}, {Path: "$.emails[1]", Kind: Added, New: `"c@x"`}}},
		{"array shrinks", `[1,2,3]`, `[1]`,
			[]Change{{Path: "$[1]", Kind: Removed, Old: "2"}, {Path: "$[2]", Kind: Removed, Old: "3"}}},
		{"type changes", `{"owner":{"id":7}}`, `{"owner":null}`,
			[]Change{{Path: "$.owner", Kind: Changed, Old: `{"id":7}`, New: "null"}}},
		{"numbers compare as written", `{"v":1.0,"id":12345678901234567890}`, `{"v":1,"id":12345678901234567890}`,
			[]Change{{Path: "$.v", Kind: Changed, Old: "1.0", New: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DiffJSON([]byte(tt.old), []byte(tt.new))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DiffJSON(%s, %s)\n got %+v\nwant %+v", tt.old, tt.new, got, tt.want)
			}
		})
	}
	if _, err := DiffJSON([]byte(`{"a":`), []byte(`{}`)); err == nil {
		t.Error("a broken older version gave no error")
	}
}
