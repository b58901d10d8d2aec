package model

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	pollStart := since.Add(5 * time.Minute)
	at := func(d time.Duration) time.Time { return since.Add(d) }
	dt := func(d time.Duration) string { return at(d).Format(time.DateTime) } // yyyy-MM-dd HH:mm:ss
	ms := func(d time.Duration) json.Number { return json.Number(strconv.FormatInt(at(d).UnixMilli(), 10)) }
	yes, no := true, false
	tol := func(n int) *int { return &n }

	// The seed's Pipedrive-style configuration.
	pd := PollerResource{URL: "/x", IDField: "id", Dates: DatesConfig{
		UpdatedDateField: "update_time", UpdatedDateFormat: "yyyy-MM-dd HH:mm:ss",
		CreatedDateField: "add_time", CreatedDateFormat: "yyyy-MM-dd HH:mm:ss",
	}}
	with := func(r PollerResource, edit func(*PollerResource)) PollerResource { edit(&r); return r }

	cases := []struct {
		name     string
		r        PollerResource
		rec      map[string]any
		keep     bool
		typ      EventType
		updated  time.Time // checked when not zero
		warnHas  string    // "" means no warning
		errHas   string
		zeroDate bool
	}{
		{name: "created equals updated", r: pd, rec: map[string]any{"update_time": dt(time.Minute), "add_time": dt(time.Minute)},
			keep: true, typ: Created, updated: at(time.Minute)},
		{name: "tolerance edge 10s is created", r: pd, rec: map[string]any{"update_time": dt(60 * time.Second), "add_time": dt(50 * time.Second)},
			keep: true, typ: Created},
		{name: "11s apart is updated", r: pd, rec: map[string]any{"update_time": dt(61 * time.Second), "add_time": dt(50 * time.Second)},
			keep: true, typ: Updated},
		{name: "created after updated within tolerance", r: pd, rec: map[string]any{"update_time": dt(60 * time.Second), "add_time": dt(65 * time.Second)},
			keep: true, typ: Created},
		{name: "created long before", r: pd, rec: map[string]any{"update_time": dt(time.Minute), "add_time": "2020-01-01 00:00:00"},
			keep: true, typ: Updated},
		{name: "tolerance 0, equal", r: with(pd, func(r *PollerResource) { r.CreatedCheckTolerance = tol(0) }),
			rec: map[string]any{"update_time": dt(time.Minute), "add_time": dt(time.Minute)}, keep: true, typ: Created},
		{name: "tolerance 0, 1s apart", r: with(pd, func(r *PollerResource) { r.CreatedCheckTolerance = tol(0) }),
			rec: map[string]any{"update_time": dt(time.Minute), "add_time": dt(59 * time.Second)}, keep: true, typ: Updated},
		{name: "tolerance 120", r: with(pd, func(r *PollerResource) { r.CreatedCheckTolerance = tol(120) }),
			rec: map[string]any{"update_time": dt(3 * time.Minute), "add_time": dt(time.Minute)}, keep: true, typ: Created},
		{name: "updated at since is kept (the overlap is deduped)", r: pd, rec: map[string]any{"update_time": dt(0), "add_time": dt(0)}, keep: true, typ: Created},
		{name: "updated 1s before since", r: pd, rec: map[string]any{"update_time": dt(-time.Second), "add_time": dt(-time.Hour)}, keep: false},
		{name: "updated before since", r: pd, rec: map[string]any{"update_time": dt(-time.Hour), "add_time": dt(-time.Hour)}, keep: false},
		{name: "updated 1s after since", r: pd, rec: map[string]any{"update_time": dt(time.Second), "add_time": dt(-time.Hour)},
			keep: true, typ: Updated},
		{name: "filterByUpdatedDate false keeps old records", r: with(pd, func(r *PollerResource) { r.FilterByUpdatedDate = &no }),
			rec: map[string]any{"update_time": dt(-time.Hour), "add_time": dt(-2 * time.Hour)}, keep: true, typ: Updated, updated: at(-time.Hour)},
		{name: "filterByUpdatedDate explicit true", r: with(pd, func(r *PollerResource) { r.FilterByUpdatedDate = &yes }),
			rec: map[string]any{"update_time": dt(-time.Hour), "add_time": dt(-2 * time.Hour)}, keep: false},
		{name: "filterByUpdatedDate false, no updated field", r: with(pd, func(r *PollerResource) { r.FilterByUpdatedDate = &no }),
			rec: map[string]any{"add_time": dt(0)}, keep: true, typ: Updated, zeroDate: true},
		{name: "missing updated field", r: pd, rec: map[string]any{"add_time": dt(0)}, errHas: "record has no update_time"},
		{name: "null updated field", r: pd, rec: map[string]any{"update_time": nil}, errHas: "update_time"},
		{name: "unreadable updated date", r: pd, rec: map[string]any{"update_time": "yesterday"}, errHas: "yesterday"},
		{name: "unreadable created date", r: pd, rec: map[string]any{"update_time": dt(time.Minute), "add_time": "soon"}, errHas: "created date"},
		{name: "no created field in record", r: pd, rec: map[string]any{"update_time": dt(time.Minute)}, keep: true, typ: Updated},
		{name: "no created field configured", r: with(pd, func(r *PollerResource) { r.Dates.CreatedDateField, r.Dates.CreatedDateFormat = "", "" }),
			rec: map[string]any{"update_time": dt(time.Minute), "add_time": dt(time.Minute)}, keep: true, typ: Updated},
		{name: "filterByCurrentDate holds records after poll start", r: with(pd, func(r *PollerResource) { r.FilterByCurrentDate = true }),
			rec: map[string]any{"update_time": dt(6 * time.Minute), "add_time": dt(6 * time.Minute)}, keep: false},
		{name: "filterByCurrentDate keeps records at poll start", r: with(pd, func(r *PollerResource) { r.FilterByCurrentDate = true }),
			rec: map[string]any{"update_time": dt(5 * time.Minute), "add_time": dt(5 * time.Minute)}, keep: true, typ: Created},
		{name: "without filterByCurrentDate later records pass", r: pd,
			rec: map[string]any{"update_time": dt(6 * time.Minute), "add_time": dt(6 * time.Minute)}, keep: true, typ: Created},
		{name: "ISO fallback warns", r: pd,
			rec:  map[string]any{"update_time": at(time.Minute).Format(time.RFC3339), "add_time": at(time.Minute).Format(time.RFC3339)},
			keep: true, typ: Created, updated: at(time.Minute), warnHas: `update_time "2026-03-01T10:01:00Z" does not match updatedDateFormat "yyyy-MM-dd HH:mm:ss"`},
		{name: "ISO fallback on created only warns", r: pd,
			rec:  map[string]any{"update_time": dt(time.Minute), "add_time": at(time.Minute).Format(time.RFC3339)},
			keep: true, typ: Created, warnHas: "createdDateFormat"},
		{name: "ISO fallback on a dropped record still warns", r: pd,
			rec: map[string]any{"update_time": at(-time.Hour).Format(time.RFC3339)}, keep: false, warnHas: "updatedDateFormat"},
		{name: "milliseconds as number",
			r: PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "properties.lastmodifieddate", UpdatedDateFormat: "milliseconds",
				CreatedDateField: "properties.createdate", CreatedDateFormat: "milliseconds"}},
			rec:  map[string]any{"properties": map[string]any{"lastmodifieddate": ms(90 * time.Second), "createdate": ms(-time.Hour)}},
			keep: true, typ: Updated, updated: at(90 * time.Second)},
		{name: "milliseconds as string and float",
			r: PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "u", UpdatedDateFormat: "milliseconds",
				CreatedDateField: "c", CreatedDateFormat: "milliseconds"}},
			rec:  map[string]any{"u": string(ms(90 * time.Second)), "c": float64(at(85 * time.Second).UnixMilli())},
			keep: true, typ: Created, updated: at(90 * time.Second)},
		{name: "milliseconds keeps sub-second precision",
			r:    PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "u", UpdatedDateFormat: "milliseconds"}},
			rec:  map[string]any{"u": json.Number(strconv.FormatInt(since.UnixMilli()+1, 10))},
			keep: true, typ: Updated, updated: since.Add(time.Millisecond)},
		{name: "milliseconds format with an ISO value warns",
			r:    PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "u", UpdatedDateFormat: "milliseconds"}},
			rec:  map[string]any{"u": at(time.Minute).Format(time.RFC3339)},
			keep: true, typ: Updated, updated: at(time.Minute), warnHas: "milliseconds"},
		{name: "time zone applies to text without offset",
			r: PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "_info.lastUpdated", UpdatedDateFormat: "MM/dd/yyyy HH:mm:ss",
				UpdatedDateTimezone: "America/Denver"}},
			rec:  map[string]any{"_info": map[string]any{"lastUpdated": "03/01/2026 03:01:00"}}, // MST = UTC-7
			keep: true, typ: Updated, updated: at(time.Minute)},
		{name: "Close microseconds with offset",
			r: PollerResource{IDField: "id", Dates: DatesConfig{
				UpdatedDateField: "date_updated", UpdatedDateFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
				CreatedDateField: "date_created", CreatedDateFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}},
			rec:  map[string]any{"date_updated": "2026-03-01T10:00:00.000001+00:00", "date_created": "2026-03-01T09:00:00.000000+00:00"},
			keep: true, typ: Updated, updated: since.Add(time.Microsecond)},
		{name: "no updated field configured, filter off",
			r:   PollerResource{IDField: "id", FilterByUpdatedDate: &no},
			rec: map[string]any{"id": 1}, keep: true, typ: Updated, zeroDate: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Classify(tc.rec, tc.r, since, pollStart)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.Keep != tc.keep {
				t.Fatalf("keep = %v, want %v (%+v)", c.Keep, tc.keep, c)
			}
			if tc.keep && c.EventType != tc.typ {
				t.Errorf("type = %s, want %s", c.EventType, tc.typ)
			}
			if !tc.updated.IsZero() && !c.Updated.Equal(tc.updated) {
				t.Errorf("updated = %s, want %s", c.Updated, tc.updated)
			}
			if tc.zeroDate && !c.Updated.IsZero() {
				t.Errorf("updated = %s, want zero", c.Updated)
			}
			switch {
			case tc.warnHas == "" && c.Warning != "":
				t.Errorf("unexpected warning %q", c.Warning)
			case tc.warnHas != "" && !strings.Contains(c.Warning, tc.warnHas):
				t.Errorf("warning %q does not mention %q", c.Warning, tc.warnHas)
			}
		})
	}
}

// A dotted idField or date field reaches into nested objects and arrays,
// and a key that itself holds dots wins.
func TestLookupAndText(t *testing.T) {
	rec := map[string]any{
		"user":      map[string]any{"id": json.Number("42")},
		"emails":    []any{map[string]any{"value": "a@x"}},
		"odd.key":   "direct",
		"big":       float64(9007199254740992),
		"fraction":  1.5,
		"flag":      true,
		"nothing":   nil,
		"structure": map[string]any{"a": 1.0},
	}
	for _, tc := range []struct{ path, want string }{
		{"user.id", "42"}, {"emails.0.value", "a@x"}, {"odd.key", "direct"},
		{"big", "9007199254740992"}, {"fraction", "1.5"}, {"flag", "true"}, {"nothing", ""},
		{"structure", `{"a":1}`},
	} {
		v, ok := Lookup(rec, tc.path)
		if !ok {
			t.Errorf("Lookup(%q) found nothing", tc.path)
			continue
		}
		if got := Text(v); got != tc.want {
			t.Errorf("Text(Lookup(%q)) = %q, want %q", tc.path, got, tc.want)
		}
	}
	for _, p := range []string{"user.name", "emails.1.value", "emails.x", "flag.deeper"} {
		if v, ok := Lookup(rec, p); ok {
			t.Errorf("Lookup(%q) = %v, want not found", p, v)
		}
	}
}

// A vendor with whole-second dates: a change made just after a poll
// started, in the same second, reads as earlier than that start. The next
// poll (whose since is that start) must still see it.
func TestClassifyWholeSecondDates(t *testing.T) {
	pd := PollerResource{URL: "/x", IDField: "id", Dates: DatesConfig{
		UpdatedDateField: "update_time", UpdatedDateFormat: "yyyy-MM-dd HH:mm:ss",
		CreatedDateField: "add_time", CreatedDateFormat: "yyyy-MM-dd HH:mm:ss",
	}}
	since := time.Date(2026, 3, 1, 10, 0, 0, 796e6, time.UTC)
	rec := map[string]any{"update_time": "2026-03-01 10:00:00", "add_time": "2026-03-01 09:00:00"}
	c, err := Classify(rec, pd, since, since.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Keep || c.EventType != Updated {
		t.Fatalf("record updated at 10:00:00 with since 10:00:00.796: %+v, want kept as UPDATED", c)
	}
	rec["update_time"] = "2026-03-01 09:59:59"
	if c, _ := Classify(rec, pd, since, since.Add(time.Minute)); c.Keep {
		t.Fatalf("record updated at 09:59:59 with since 10:00:00.796 was kept: %+v", c)
	}
}

// Under the element's default date pattern, a date in the vendor's
// documented format is read quietly; any other pattern, or another format,
// still warns.
func TestClassifyForDocumentedDates(t *testing.T) {
	pd, _ := LookupElement("pipedrive")
	cl, _ := LookupElement("closeio")
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		el      Element
		pattern string
		value   string
		warn    bool
	}{
		{"pipedrive v2 RFC 3339 under the default", pd, "yyyy-MM-dd HH:mm:ss", "2024-05-06T07:08:09Z", false},
		{"pipedrive leads with milliseconds", pd, "yyyy-MM-dd HH:mm:ss", "2024-05-06T07:08:09.123Z", false},
		{"pipedrive under an operator's pattern", pd, "dd/MM/yyyy HH:mm", "2024-05-06T07:08:09Z", true},
		{"pipedrive, an undocumented ISO variant", pd, "yyyy-MM-dd HH:mm:ss", "2024-05-06 07:08:09+00:00", true},
		{"close event date without offset", cl, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2024-05-06T07:08:09.123456", false},
		{"close under another element's default", cl, "yyyy-MM-dd HH:mm:ss", "2024-05-06T07:08:09Z", true},
	} {
		r := PollerResource{IDField: "id", Dates: DatesConfig{UpdatedDateField: "u", UpdatedDateFormat: c.pattern}}
		rec := map[string]any{"id": "1", "u": c.value}
		got, err := ClassifyFor(c.el, rec, r, since, start)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (got.Warning != "") != c.warn {
			t.Errorf("%s: warning %q, want warning=%v", c.name, got.Warning, c.warn)
		}
		if plain, _ := Classify(rec, r, since, start); plain.Warning == "" {
			t.Errorf("%s: Classify without an element stopped warning", c.name)
		}
	}
}
