package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// searchToEnd runs a search chunk by chunk to its end and returns the
// matching ids, newest first, and how many chunks it took.
func searchToEnd(t *testing.T, s *Store, f EventFilter, limit int) (ids []string, chunks, scanned int) {
	t.Helper()
	var cursor uint64
	for {
		page, err := s.SearchEvents(context.Background(), f, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		scanned += page.Scanned
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.Done {
			if page.Next != 0 {
				t.Fatalf("a done page has cursor %d", page.Next)
			}
			return ids, chunks, scanned
		}
		if page.Next == 0 || (cursor != 0 && page.Next >= cursor) {
			t.Fatalf("cursor %d after %d does not move down", page.Next, cursor)
		}
		cursor = page.Next
		if chunks > 1000 {
			t.Fatal("search does not end")
		}
	}
}

// seedSearch stores n events; every seventh names Barbara Jones in its
// payload, the others someone else.
func seedSearch(t *testing.T, s *Store, n int) (barbaras []string) {
	t.Helper()
	var evs []model.Event
	for i := 1; i <= n; i++ {
		e := webhookEvent(int64(1+i%2), "", fmt.Sprint(i))
		name := "Alice Smith"
		if i%7 == 0 {
			name = "BARBARA  jones"
			if i%14 == 0 {
				name = "Barbara Jones"
			}
		}
		e.Raw = json.RawMessage(fmt.Sprintf(`{"id":%d,"name":%q}`, i, name))
		evs = append(evs, e)
	}
	for _, e := range mustAppend(t, s, evs...).Stored {
		if e.Seq()%14 == 0 {
			barbaras = append([]string{e.ID}, barbaras...)
		}
	}
	return barbaras
}

func TestSearchEventsAcrossChunks(t *testing.T) {
	s := openTest(t, nil)
	want := seedSearch(t, s, 100) // all of instance 1, the even events
	defer func(v int) { searchChunk = v }(searchChunk)
	all, one := EventFilter{Raw: "barbara jones"}, EventFilter{Raw: "barbara jones", InstanceID: 1}
	for _, c := range []struct {
		name        string
		f           EventFilter
		chunk       int
		limit       int
		minChunks   int
		wantScanned int
	}{
		{"one chunk", all, 1000, 50, 1, 100},
		{"chunks of 9 (matches straddle the boundaries)", all, 9, 50, 12, 100},
		{"chunks of 1", all, 1, 50, 100, 100},
		{"limit 1 stops at every match", all, 1000, 1, len(want), 100},
		{"one instance, one chunk", one, 1000, 50, 1, 50},
		{"one instance, chunks of 9", one, 9, 50, 6, 50},
		{"one instance, chunks of 1", one, 1, 50, 50, 50},
		{"one instance, limit 1", one, 1000, 1, len(want), 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			searchChunk = c.chunk
			got, chunks, scanned := searchToEnd(t, s, c.f, c.limit)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("found %v, want %v", got, want)
			}
			if chunks < c.minChunks || scanned != c.wantScanned {
				t.Errorf("%d chunks scanning %d events, want at least %d chunks and %d events", chunks, scanned, c.minChunks, c.wantScanned)
			}
		})
	}
}

// An instance with no events over a long stretch: the index blocks a
// chunk looks at count as work, so each chunk ends soon, and the search
// still moves on to the instance's old events.
func TestSearchEventsInstanceOverALongGap(t *testing.T) {
	s := openTest(t, nil)
	mustAppend(t, s, webhookEvent(7, "", "old"))
	var evs []model.Event
	for i := 0; i < 4*blockSize; i++ {
		evs = append(evs, webhookEvent(1, "", fmt.Sprint(i)))
	}
	mustAppend(t, s, evs...)
	defer func(v int) { searchChunk = v }(searchChunk)
	searchChunk = 1
	got, chunks, scanned := searchToEnd(t, s, EventFilter{InstanceID: 7}, 50)
	if fmt.Sprint(got) != "[1]" || scanned != 1 || chunks < 4 {
		t.Errorf("found %v scanning %d events in %d chunks, want [1], 1 event, a chunk per index block", got, scanned, chunks)
	}
}

func TestSearchEventsCombinesFilters(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	seedSearch(t, s, 28) // Barbara Jones: 14 (instance 1), 28 (instance 1)
	clock.Advance(time.Hour)
	late := webhookEvent(2, "", "late")
	late.Raw = json.RawMessage(`{"id":"late","name":"Barbara Jones"}`)
	mustAppend(t, s, late) // 29
	start := clock.Now()
	for _, c := range []struct {
		name string
		f    EventFilter
		want string
	}{
		{"raw", EventFilter{Raw: "Barbara Jones"}, "[29 28 14]"},
		{"raw and instance", EventFilter{Raw: "Barbara Jones", InstanceID: 1}, "[28 14]"},
		{"raw and object id", EventFilter{Raw: "barbara", ObjectID: "14"}, "[14]"},
		{"object id alone", EventFilter{ObjectID: "3"}, "[3]"},
		{"raw since", EventFilter{Raw: "Barbara Jones", Since: start}, "[29]"},
		{"raw until", EventFilter{Raw: "Barbara Jones", Until: start}, "[28 14]"},
		{"raw before", EventFilter{Raw: "Barbara Jones", Before: 28}, "[14]"},
		{"nothing", EventFilter{Raw: "Kowalski"}, "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := searchToEnd(t, s, c.f, 50)
			if fmt.Sprint(got) != c.want {
				t.Errorf("found %v, want %s", got, c.want)
			}
		})
	}
	// Matches come with their payload.
	page, err := s.SearchEvents(context.Background(), EventFilter{Raw: "barbara", ObjectID: "14"}, 0, 10)
	if err != nil || len(page.Events) != 1 || string(page.Events[0].Raw) != `{"id":14,"name":"Barbara Jones"}` {
		t.Fatalf("page %+v, %v", page, err)
	}
}

// The since bound ends the search at the first event well before it
// instead of reading the rest of the history.
func TestSearchEventsSinceStopsEarly(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	seedSearch(t, s, 50)
	clock.Advance(time.Hour)
	start := clock.Now()
	seedSearch(t, s, 10)
	_, _, scanned := searchToEnd(t, s, EventFilter{Raw: "x", Since: start}, 50)
	if scanned != 11 {
		t.Errorf("scanned %d events, want the 10 after since and the one that ends the search", scanned)
	}
}

func TestSearchEventsResumesAtCursor(t *testing.T) {
	s := openTest(t, nil)
	want := seedSearch(t, s, 70) // 70 56 42 28 14
	page, err := s.SearchEvents(context.Background(), EventFilter{Raw: "barbara jones"}, 0, 2)
	if err != nil || len(page.Events) != 2 || page.Done {
		t.Fatalf("first page %+v, %v", page, err)
	}
	// New events after the first page do not disturb the rest.
	seedSearch(t, s, 14)
	rest, err := s.SearchEvents(context.Background(), EventFilter{Raw: "barbara jones"}, page.Next, 50)
	if err != nil || !rest.Done {
		t.Fatalf("rest %+v, %v", rest, err)
	}
	var got []string
	for _, e := range append(page.Events, rest.Events...) {
		got = append(got, e.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("found %v over two calls, want %v", got, want)
	}
}

func TestSearchEventsStopsOnCancel(t *testing.T) {
	s := openTest(t, nil)
	seedSearch(t, s, 2*searchCtxEvery)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SearchEvents(ctx, EventFilter{Raw: "barbara"}, 0, 50); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v, want context.Canceled", err)
	}
	// Cancelled while the chunk runs, after its first 256 events: a
	// context that reports cancelled from its third look on.
	ctx2 := &cancelAfter{Context: context.Background(), n: 2}
	page, err := s.SearchEvents(ctx2, EventFilter{Raw: "barbara"}, 0, 50)
	if !errors.Is(err, context.Canceled) || len(page.Events) != 0 {
		t.Fatalf("cancelled during: %+v, %v, want context.Canceled", page, err)
	}
	if ctx2.looks != 3 {
		t.Errorf("the chunk looked at its context %d times before stopping, want 3 (at the start, then every %d events)", ctx2.looks, searchCtxEvery)
	}
}

// cancelAfter is a context whose Err reports cancellation after n looks.
type cancelAfter struct {
	context.Context
	n, looks int
}

func (c *cancelAfter) Err() error {
	c.looks++
	if c.looks > c.n {
		return context.Canceled
	}
	return nil
}

// BenchmarkSearchEvents measures one full chunk (searchChunk events of
// about 1 KB) searched for text no payload holds, against the baseline of
// Events paging the same events with a filter that matches none.
func BenchmarkSearchEvents(b *testing.B) {
	s := openTest(b, nil)
	body := strings.Repeat(`"name":"Alice Smith","email":"alice@example.com","org":"Acme Corporation",`, 12)
	var evs []model.Event
	for i := 0; i < searchChunk; i++ {
		e := webhookEvent(1, "", fmt.Sprint(i))
		e.Raw = json.RawMessage(`{"id":` + fmt.Sprint(i) + `,` + body + `"x":1}`)
		evs = append(evs, e)
		if len(evs) == 1000 {
			mustAppend(b, s, evs...)
			evs = evs[:0]
		}
	}
	b.Run("search raw", func(b *testing.B) {
		for b.Loop() {
			page, err := s.SearchEvents(context.Background(), EventFilter{Raw: "Barbara Jones"}, 0, 50)
			if err != nil || page.Scanned != searchChunk {
				b.Fatal(page.Scanned, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*searchChunk), "ns/event")
	})
	b.Run("events baseline", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.Events(b.Context(), EventFilter{ObjectID: "none"}, 50); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*scanLimit), "ns/event")
	})
}
