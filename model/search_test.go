package model

import (
	"strings"
	"testing"
	"time"
)

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		hay, needle string
		want        bool
	}{
		{`{"name":"Barbara Jones"}`, "barbara", true},
		{`{"name":"Barbara Jones"}`, "BARBARA JONES", true},
		{`{"name":"Barbara Jones"}`, "Jones\"", true},
		{`{"name":"Barbara Jones"}`, "Barbra", false},
		{`{"name":"Barbara"}`, "Barbara Jones", false},
		{`{"city":"ZÜRICH"}`, "zürich", true},
		{`{"city":"Zürich"}`, "ÜRICH", true},
		{`{"city":"Zürich"}`, "urich", false},
		{`{"id":123}`, "123", true},
		{`{"id":1234}`, "2345", false},
		{`aaaaaaaaab`, "aab", true},
		{`AAAAAAAAAB`, "aab", true},
		{`abc`, "", true},
		{``, "a", false},
		{`xyz`, "xyzw", false},
	} {
		if got := ContainsFold([]byte(c.hay), c.needle); got != c.want {
			t.Errorf("ContainsFold(%q, %q) = %v, want %v", c.hay, c.needle, got, c.want)
		}
	}
}

func TestEventFilterRaw(t *testing.T) {
	e := Event{InstanceID: 2, ObjectType: "contacts", ObjectID: "123", ReceivedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Raw: []byte(`{"id":123,"name":"Barbara Jones"}`)}
	for _, c := range []struct {
		name string
		f    EventFilter
		want bool
	}{
		{"raw alone", EventFilter{Raw: "barbara jones"}, true},
		{"raw missing", EventFilter{Raw: "Kowalski"}, false},
		{"raw and object id", EventFilter{Raw: "barbara", ObjectID: "123"}, true},
		{"raw and another instance", EventFilter{Raw: "barbara", InstanceID: 3}, false},
		{"raw before since", EventFilter{Raw: "barbara", Since: e.ReceivedAt.Add(time.Second)}, false},
	} {
		if got := c.f.Match(&e); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
}

func BenchmarkContainsFold(b *testing.B) {
	hay := []byte(strings.Repeat(`{"name":"Acme Corporation","email":"sales@acme.example","value":42},`, 16))
	b.SetBytes(int64(len(hay)))
	for b.Loop() {
		if ContainsFold(hay, "Barbara Jones") {
			b.Fatal("found")
		}
	}
}
