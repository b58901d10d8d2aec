package store

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestInstanceBlockCountsMatchTheEvents(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "e.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := map[int64]int{}
	newest := map[int64]uint64{}
	var evs []model.Event
	for i := range 700 { // three blocks, the last one partly filled
		id := int64(i%3 + 1)
		if i%7 == 0 {
			id = 4
		}
		want[id]++
		evs = append(evs, model.Event{InstanceID: id, Source: model.SourceWebhook, ObjectType: "x", ObjectID: strconv.Itoa(i), EventType: model.Created, Raw: json.RawMessage(`{}`)})
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	all, _, err := st.Events(t.Context(), model.EventFilter{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		newest[e.InstanceID] = max(newest[e.InstanceID], e.Seq())
	}
	counts, first, last, err := st.InstanceBlockCounts(t.Context(), 0)
	if err != nil || first != 1 || last != 700>>blockShift {
		t.Fatalf("first %d last %d %v", first, last, err)
	}
	for id, n := range want {
		if counts[id].Events != n || counts[id].Newest != newest[id] {
			t.Errorf("instance %d: %+v, want %d events, newest %d", id, counts[id], n, newest[id])
		}
	}
	// From the last block only: what a cache adds to its complete blocks.
	tail, _, _, err := st.InstanceBlockCounts(t.Context(), last)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, c := range tail {
		sum += c.Events
	}
	if sum != 700-int(last<<blockShift)+1 {
		t.Errorf("the last block holds %d events, want %d", sum, 700-int(last<<blockShift)+1)
	}
	// Retention moves the first id, which tells a cache to start over.
	if _, err := st.Prune(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	counts, first, _, err = st.InstanceBlockCounts(t.Context(), 0)
	if err != nil || len(counts) != 0 && counts[1].Events != 0 || first != 0 {
		t.Errorf("after pruning everything: %+v first %d %v", counts, first, err)
	}
}

func TestFirstEventSince(t *testing.T) {
	base := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	now := base
	st, err := Open(filepath.Join(t.TempDir(), "e.db"), Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if id, err := st.FirstEventSince(t.Context(), base); err != nil || id != 0 {
		t.Fatalf("empty store: %d %v", id, err)
	}
	for i := range 100 { // one event a second
		now = base.Add(time.Duration(i) * time.Second)
		if _, err := st.AppendEvents(t.Context(), []model.Event{{InstanceID: 1, Source: model.SourceWebhook, ObjectType: "x", ObjectID: strconv.Itoa(i), EventType: model.Created, Raw: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		at   time.Duration
		want uint64
	}{{-time.Hour, 1}, {0, 1}, {500 * time.Millisecond, 2}, {40 * time.Second, 41}, {99 * time.Second, 100}, {100 * time.Second, 0}} {
		if id, err := st.FirstEventSince(t.Context(), base.Add(c.at)); err != nil || id != c.want {
			t.Errorf("since +%v: %d %v, want %d", c.at, id, err, c.want)
		}
	}
}
