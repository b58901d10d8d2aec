package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestAppendEventsAssignsIDs(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	if id, err := s.LastEventID(t.Context()); err != nil || id != 0 {
		t.Errorf("LastEventID on empty store = %d, %v", id, err)
	}
	if _, err := s.AppendEvents(t.Context(), nil); err != nil {
		t.Errorf("AppendEvents(nil): %v", err)
	}
	res := mustAppend(t, s, webhookEvent(1, "", "a"), webhookEvent(1, "", "b"))
	res2 := mustAppend(t, s, webhookEvent(2, "", "c"))
	all := append(res.Stored, res2.Stored...)
	for i, e := range all {
		if e.ID != strconv.Itoa(i+1) || e.Seq() != uint64(i+1) {
			t.Errorf("event %d got id %q", i, e.ID)
		}
		if !e.ReceivedAt.Equal(clock.Now()) {
			t.Errorf("ReceivedAt = %v, want the clock's %v", e.ReceivedAt, clock.Now())
		}
	}
	if res.Stored[0].ObjectID != "a" || res.Stored[1].ObjectID != "b" {
		t.Errorf("Stored not in input order: %+v", res.Stored)
	}
	// A ReceivedAt set by the caller is kept.
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	e := webhookEvent(1, "", "d")
	e.ReceivedAt = at
	if got := mustAppend(t, s, e).Stored[0]; !got.ReceivedAt.Equal(at) {
		t.Errorf("caller's ReceivedAt replaced: %v", got.ReceivedAt)
	}
	if id, _ := s.LastEventID(t.Context()); id != 4 {
		t.Errorf("LastEventID = %d, want 4", id)
	}
	if n, _ := s.EventCount(t.Context()); n != 4 {
		t.Errorf("EventCount = %d, want 4", n)
	}
	got, err := s.Event(t.Context(), "3")
	if err != nil || got.ObjectID != "c" || got.InstanceID != 2 || string(got.Raw) != `{"id":"c"}` {
		t.Errorf("Event(3) = %+v, %v", got, err)
	}
	for _, id := range []string{"", "0", "5", "-1", "abc", "18446744073709551616"} {
		if _, err := s.Event(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Event(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestWebhookDedupe(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)

	first := mustAppend(t, s, webhookEvent(1, "evt-1", "c1"))
	if len(first.Stored) != 1 || first.Duplicates != 0 {
		t.Fatalf("first delivery: %+v", first)
	}
	retry := mustAppend(t, s, webhookEvent(1, "evt-1", "c1"))
	if len(retry.Stored) != 0 || retry.Duplicates != 1 {
		t.Errorf("retry: %+v, want Duplicates=1 and nothing stored", retry)
	}
	if n, _ := s.EventCount(t.Context()); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}

	// Within one call: the repeat is dropped, the rest kept in order.
	res := mustAppend(t, s, webhookEvent(1, "evt-2", "c2"), webhookEvent(1, "evt-2", "c2"), webhookEvent(1, "evt-3", "c3"))
	if len(res.Stored) != 2 || res.Duplicates != 1 || res.Stored[0].ObjectID != "c2" || res.Stored[1].ObjectID != "c3" {
		t.Errorf("in-call repeat: %+v", res)
	}

	// The same vendor id for another instance, or without a vendor id, is
	// a different change.
	res = mustAppend(t, s, webhookEvent(2, "evt-1", "c1"), webhookEvent(1, "", "c1"), webhookEvent(1, "", "c1"))
	if len(res.Stored) != 3 || res.Duplicates != 0 {
		t.Errorf("other instance / no vendor id: %+v, want all 3 stored", res)
	}

	// Still remembered just before the window ends, forgotten after it.
	clock.Advance(DedupeWindow - time.Second)
	if res := mustAppend(t, s, webhookEvent(1, "evt-1", "c1")); res.Duplicates != 1 {
		t.Errorf("retry within the window: %+v", res)
	}
	clock.Advance(2 * time.Second)
	res = mustAppend(t, s, webhookEvent(1, "evt-1", "c1"))
	if len(res.Stored) != 1 || res.Duplicates != 0 {
		t.Errorf("retry after the window: %+v, want stored", res)
	}
	// ... and the new delivery starts a new window.
	clock.Advance(DedupeWindow - time.Second)
	if res := mustAppend(t, s, webhookEvent(1, "evt-1", "c1")); res.Duplicates != 1 {
		t.Errorf("retry within the renewed window: %+v", res)
	}
}

func TestPollingDedupe(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	d1 := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	d2 := d1.Add(time.Minute)

	res := mustAppend(t, s, pollEvent(1, "contacts", "42", d1))
	if len(res.Stored) != 1 {
		t.Fatalf("%+v", res)
	}
	// The same record version seen again in an overlapping poll window,
	// even with its date in another zone.
	res = mustAppend(t, s, pollEvent(1, "contacts", "42", d1), pollEvent(1, "contacts", "42", d1.In(time.FixedZone("X", 3600))))
	if len(res.Stored) != 0 || res.Duplicates != 2 {
		t.Errorf("repeat poll: %+v, want 2 duplicates", res)
	}
	// Any difference in (instance, objectType, objectId, date) is a new change.
	res = mustAppend(t, s,
		pollEvent(1, "contacts", "42", d2),
		pollEvent(1, "accounts", "42", d1),
		pollEvent(1, "contacts", "43", d1),
		pollEvent(2, "contacts", "42", d1),
	)
	if len(res.Stored) != 4 || res.Duplicates != 0 {
		t.Errorf("distinct changes: %+v, want 4 stored", res)
	}
	// A polled event and a webhook event of the same object do not collide.
	w := webhookEvent(1, "42", "42")
	if res := mustAppend(t, s, w); len(res.Stored) != 1 {
		t.Errorf("webhook event with the same ids as a polled one: %+v", res)
	}
	clock.Advance(DedupeWindow + time.Nanosecond)
	if res := mustAppend(t, s, pollEvent(1, "contacts", "42", d1)); len(res.Stored) != 1 {
		t.Errorf("repeat after the window: %+v, want stored", res)
	}
}

// eventIDs pages through Events with filter f and returns the ids seen,
// failing on any page that breaks the newest-first order.
func pageAll(t *testing.T, s *Store, f EventFilter, limit int) []uint64 {
	t.Helper()
	var ids []uint64
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("paging does not end (filter %+v)", f)
		}
		page, next, err := s.Events(t.Context(), f, limit)
		if err != nil {
			t.Fatalf("Events(%+v): %v", f, err)
		}
		if len(page) > limit {
			t.Fatalf("page of %d events for limit %d", len(page), limit)
		}
		for _, e := range page {
			if len(ids) > 0 && e.Seq() >= ids[len(ids)-1] {
				t.Fatalf("filter %+v: id %d after %d, want newest first", f, e.Seq(), ids[len(ids)-1])
			}
			ids = append(ids, e.Seq())
		}
		if next == 0 {
			return ids
		}
		if next == f.Before {
			t.Fatalf("filter %+v: next cursor %d does not advance", f, next)
		}
		f.Before = next
	}
}

// fixture stores events for three instances, interleaved, varying in type,
// object type and source, one minute apart.
type fixture struct {
	s      *Store
	clock  *fakeClock
	start  time.Time
	events []model.Event
}

func newFixture(t *testing.T, n int) *fixture {
	clock := newFakeClock()
	s := openTest(t, clock)
	fx := &fixture{s: s, clock: clock, start: clock.Now()}
	types := []model.EventType{model.Created, model.Updated, model.Deleted}
	objs := []string{"contacts", "accounts"}
	for i := 0; i < n; i++ {
		inst := int64(i%3 + 1)
		var e model.Event
		if i%4 == 0 {
			e = pollEvent(inst, objs[i%2], fmt.Sprint(i), fx.start.Add(time.Duration(i)*time.Second))
		} else {
			e = webhookEvent(inst, fmt.Sprint("v", i), fmt.Sprint(i))
			e.ObjectType = objs[i%2]
		}
		e.EventType = types[i%3/1%3]
		if i%5 == 0 {
			e.EventType = types[(i/5)%3]
		}
		res := mustAppend(t, s, e)
		fx.events = append(fx.events, res.Stored...)
		clock.Advance(time.Minute)
	}
	return fx
}

func (fx *fixture) want(f EventFilter) []uint64 {
	var ids []uint64
	for i := len(fx.events) - 1; i >= 0; i-- {
		e := fx.events[i]
		if f.Match(&e) {
			ids = append(ids, e.Seq())
		}
	}
	return ids
}

func equalIDs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEventsFilters(t *testing.T) {
	fx := newFixture(t, 60)
	filters := []EventFilter{
		{},
		{InstanceID: 1},
		{InstanceID: 2},
		{InstanceID: 3},
		{InstanceID: 4}, // no events
		{InstanceID: 99},
		{ObjectType: "contacts"},
		{ObjectType: "nothing"},
		{EventType: model.Created},
		{EventType: model.Deleted},
		{Source: model.SourcePolling},
		{Source: model.SourceWebhook},
		{Since: fx.start.Add(30 * time.Minute)},
		{Since: fx.start.Add(30*time.Minute + time.Second)},
		{Since: fx.start.Add(-time.Hour)},
		{Since: fx.start.Add(time.Hour * 24)},
		{InstanceID: 2, ObjectType: "accounts"},
		{InstanceID: 1, Source: model.SourcePolling},
		{InstanceID: 3, EventType: model.Updated, Since: fx.start.Add(20 * time.Minute)},
		{ObjectType: "contacts", Source: model.SourceWebhook, EventType: model.Updated},
	}
	for _, f := range filters {
		want := fx.want(f)
		// Nonzero cases must really be exercised.
		if f.InstanceID >= 1 && f.InstanceID <= 3 && len(want) == 0 {
			t.Fatalf("fixture has no events for %+v", f)
		}
		for _, limit := range []int{1, 2, 3, 7, 50, 1000} {
			got := pageAll(t, fx.s, f, limit)
			if !equalIDs(got, want) {
				t.Errorf("filter %+v limit %d:\n got %v\nwant %v", f, limit, got, want)
			}
		}
		// The first page holds the newest matches.
		page, _, err := fx.s.Events(t.Context(), f, 5)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range page {
			if e.Seq() != want[i] {
				t.Errorf("filter %+v: first page %d is %d, want %d", f, i, e.Seq(), want[i])
			}
		}
	}
}

func TestEventsPagingNextIsZeroAtEnd(t *testing.T) {
	fx := newFixture(t, 6)
	page, next, err := fx.s.Events(t.Context(), EventFilter{}, 6)
	if err != nil || len(page) != 6 || next != 0 {
		t.Errorf("exactly one full page: %d events, next %d, %v; want next 0", len(page), next, err)
	}
	page, next, _ = fx.s.Events(t.Context(), EventFilter{}, 5)
	if len(page) != 5 || next != 2 {
		t.Errorf("page of 5 of 6: %d events, next %d; want next 2", len(page), next)
	}
	page, next, _ = fx.s.Events(t.Context(), EventFilter{Before: next}, 5)
	if len(page) != 1 || page[0].Seq() != 1 || next != 0 {
		t.Errorf("last page: %+v next %d", page, next)
	}
	// limit <= 0 means the default page size.
	if page, _, _ := fx.s.Events(t.Context(), EventFilter{}, 0); len(page) != 6 {
		t.Errorf("limit 0 gave %d events", len(page))
	}
}

func TestEventsBeforeArbitraryCursor(t *testing.T) {
	fx := newFixture(t, 30)
	for _, f := range []EventFilter{{}, {InstanceID: 1}, {InstanceID: 3}, {ObjectType: "accounts"}} {
		for _, before := range []uint64{1, 2, 5, 17, 29, 30, 31, 1000, math.MaxUint64} {
			f.Before = before
			var want []uint64
			for _, id := range fx.want(EventFilter{InstanceID: f.InstanceID, ObjectType: f.ObjectType}) {
				if id < before {
					want = append(want, id)
				}
			}
			if got := pageAll(t, fx.s, f, 4); !equalIDs(got, want) {
				t.Errorf("filter %+v:\n got %v\nwant %v", f, got, want)
			}
		}
	}
}

func TestEventsScanLimitContinues(t *testing.T) {
	if testing.Short() {
		t.Skip("stores more than scanLimit events")
	}
	s := openTest(t, nil)
	// One match at the very start, then more than scanLimit that do not match.
	mustAppend(t, s, pollEvent(1, "rare", "1", time.Time{}))
	batch := make([]model.Event, 0, 1000)
	for i := 0; i < scanLimit+500; i++ {
		batch = append(batch, webhookEvent(1, "", "x"))
		if len(batch) == cap(batch) {
			mustAppend(t, s, batch...)
			batch = batch[:0]
		}
	}
	mustAppend(t, s, batch...)
	mustAppend(t, s, pollEvent(2, "rare", "2", time.Time{}))

	for _, f := range []EventFilter{{ObjectType: "rare"}, {InstanceID: 1, ObjectType: "rare"}} {
		page, next, err := s.Events(t.Context(), f, 10)
		if err != nil {
			t.Fatal(err)
		}
		if next == 0 {
			t.Fatalf("filter %+v: a scan beyond scanLimit must return a cursor, got %d events and next 0", f, len(page))
		}
		var got []uint64
		for _, e := range page {
			got = append(got, e.Seq())
		}
		f.Before = next
		got = append(got, pageAll(t, s, f, 10)...)
		want := []uint64{uint64(scanLimit + 502), 1}
		if f.InstanceID == 1 {
			want = want[1:]
		}
		if !equalIDs(got, want) {
			t.Errorf("filter %+v: paged ids %v, want %v", f, got, want)
		}
	}
}

func TestEventsAfter(t *testing.T) {
	fx := newFixture(t, 10)
	got, err := fx.s.EventsAfter(t.Context(), 0, 100)
	if err != nil || len(got) != 10 {
		t.Fatalf("EventsAfter(0) = %d events, %v", len(got), err)
	}
	for i, e := range got {
		if e.Seq() != uint64(i+1) {
			t.Errorf("EventsAfter order: position %d has id %d", i, e.Seq())
		}
	}
	got, _ = fx.s.EventsAfter(t.Context(), 7, 100)
	if len(got) != 3 || got[0].Seq() != 8 || got[2].Seq() != 10 {
		t.Errorf("EventsAfter(7) = %v", got)
	}
	got, _ = fx.s.EventsAfter(t.Context(), 2, 3)
	if len(got) != 3 || got[0].Seq() != 3 || got[2].Seq() != 5 {
		t.Errorf("EventsAfter(2, 3) = %v", got)
	}
	if got, _ := fx.s.EventsAfter(t.Context(), 10, 100); len(got) != 0 {
		t.Errorf("EventsAfter(last) = %v, want none", got)
	}
	last, _ := fx.s.LastEventID(t.Context())
	if last != 10 {
		t.Errorf("LastEventID = %d", last)
	}
	// A live reader that follows LastEventID sees every later event once.
	res := mustAppend(t, fx.s, webhookEvent(1, "", "new1"), webhookEvent(2, "", "new2"))
	got, _ = fx.s.EventsAfter(t.Context(), last, 100)
	if len(got) != 2 || got[0].ID != res.Stored[0].ID || got[1].ID != res.Stored[1].ID {
		t.Errorf("EventsAfter(%d) = %v, want the two new events", last, got)
	}
}

// Concurrent writers stamp ReceivedAt before their commit is ordered, so ids
// and ReceivedAt can disagree by a little. Since must still find every event
// received at or after it.
func TestEventsSinceToleratesCommitReordering(t *testing.T) {
	s := openTest(t, nil)
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	stamps := []time.Duration{0, 2 * time.Second, 1 * time.Second, 3 * time.Second, 2500 * time.Millisecond}
	for i, d := range stamps {
		e := webhookEvent(int64(i%2+1), "", fmt.Sprint(i))
		e.ReceivedAt = t0.Add(d)
		mustAppend(t, s, e)
	}
	// ids 1..5 received at +0, +2, +1, +3, +2.5 s.
	cases := []struct {
		since time.Duration
		inst  int64
		want  []uint64
	}{
		{2 * time.Second, 0, []uint64{5, 4, 2}},
		{2500 * time.Millisecond, 0, []uint64{5, 4}},
		{1 * time.Second, 0, []uint64{5, 4, 3, 2}},
		{2 * time.Second, 2, []uint64{4, 2}},
		{3 * time.Second, 1, nil},
	}
	for _, c := range cases {
		f := EventFilter{Since: t0.Add(c.since), InstanceID: c.inst}
		for _, limit := range []int{1, 2, 50} {
			if got := pageAll(t, s, f, limit); !equalIDs(got, c.want) {
				t.Errorf("since +%v instance %d limit %d: got %v, want %v", c.since, c.inst, limit, got, c.want)
			}
		}
	}
}

func TestEventRawKeptByteForByte(t *testing.T) {
	s := openTest(t, nil)
	raws := []string{
		"{ \"a\" : 1,\n  \"b\": [1, 2 ] }\n",
		`{"unicode":"\u00e9t\u00e9","html":"<a&b>"}`,
		`[]`,
	}
	for _, raw := range raws {
		e := webhookEvent(1, "", "x")
		e.Raw = []byte(raw)
		res := mustAppend(t, s, e)
		got, err := s.Event(t.Context(), res.Stored[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != raw {
			t.Errorf("Raw = %q, want %q", got.Raw, raw)
		}
		after, _ := s.EventsAfter(t.Context(), res.Stored[0].Seq()-1, 1)
		page, _, _ := s.Events(t.Context(), EventFilter{}, 1)
		if len(after) != 1 || string(after[0].Raw) != raw || len(page) != 1 || string(page[0].Raw) != raw {
			t.Errorf("Raw through EventsAfter/Events differs: %+v / %+v", after, page)
		}
	}
	// A stored event is returned with every field intact.
	want := pollEvent(3, "deals", "77", time.Date(2024, 1, 1, 1, 1, 1, 5, time.UTC))
	want.PollDate = time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC)
	want.EventType = model.Deleted
	want.Raw = []byte(`{"x":1}`)
	stored := mustAppend(t, s, want).Stored[0]
	got, err := s.Event(t.Context(), stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.InstanceID != 3 || got.ElementKey != "pipedrive" || got.HubKey != "crm" || got.Source != model.SourcePolling ||
		got.ObjectType != "deals" || got.ObjectID != "77" || got.EventType != model.Deleted ||
		!got.Date.Equal(want.Date) || !got.PollDate.Equal(want.PollDate) || !got.ReceivedAt.Equal(stored.ReceivedAt) ||
		got.ID != stored.ID || string(got.Raw) != `{"x":1}` {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, stored)
	}
}
