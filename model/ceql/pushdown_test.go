package ceql

import (
	"slices"
	"testing"
)

func TestSinceBound(t *testing.T) {
	tests := []struct {
		where, field string
		value        string
		inclusive    bool
		ok           bool
	}{
		{"update_time>'2024-01-02 03:04:05'", "update_time", "2024-01-02 03:04:05", false, true},
		{"update_time >= '2024-01-02'", "update_time", "2024-01-02", true, true},
		{"date_updated > 1700000000000", "date_updated", "1700000000000", false, true},
		{"status='open' AND update_time>'2024-01-01'", "update_time", "2024-01-01", false, true},
		{"(status='open' OR status='won') AND update_time>='2024-01-01' AND owner_id=1", "update_time", "2024-01-01", true, true},
		{"update_time>'2024-01-01' AND update_time>'2024-02-01T00:00:00Z'", "update_time", "2024-02-01T00:00:00Z", false, true},
		{"update_time>'2024-02-01' AND update_time>='2024-01-01'", "update_time", "2024-02-01", false, true},
		{"update_time>='2024-01-01' AND update_time>'2024-01-01T00:00:00Z'", "update_time", "2024-01-01T00:00:00Z", false, true},
		{"update_time>'2024-01-01' AND update_time>='2024-01-01'", "update_time", "2024-01-01", false, true},
		{"update_time>'2024-01-01' OR status='open'", "update_time", "", false, false},
		{"(update_time>'2024-01-01' OR a=1) AND b=2", "update_time", "", false, false},
		{"update_time<'2024-01-01'", "update_time", "", false, false},
		{"update_time='2024-01-01'", "update_time", "", false, false},
		{"update_time>true", "update_time", "", false, false},
		{"add_time>'2024-01-01'", "update_time", "", false, false},
		{"Update_Time>'2024-01-01'", "update_time", "", false, false},
		{"update_time IS NOT NULL", "update_time", "", false, false},
		{"title>'it''s'", "title", "it's", false, true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.where)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.where, err)
		}
		v, incl, ok := SinceBound(e, tt.field)
		if v != tt.value || incl != tt.inclusive || ok != tt.ok {
			t.Errorf("SinceBound(%q, %q) = %q, %v, %v; want %q, %v, %v", tt.where, tt.field, v, incl, ok, tt.value, tt.inclusive, tt.ok)
		}
	}
}

func TestFields(t *testing.T) {
	e, err := Parse("a=1 AND (b.c IN (1) OR d LIKE 'x' OR a=2) AND e IS NULL AND b.c>0")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Fields(e), []string{"a", "b.c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
}
