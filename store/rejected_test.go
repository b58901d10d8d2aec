package store

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestRejectedRoundTripAndPaging(t *testing.T) {
	s := openTest(t, nil)
	if list, next, err := s.RejectedList(t.Context(), 0, 10); err != nil || len(list) != 0 || next != 0 {
		t.Errorf("empty ring: %v, %d, %v", list, next, err)
	}
	at := time.Date(2024, 4, 4, 4, 4, 4, 0, time.UTC)
	first := Rejected{
		ID:         "ignored",
		Time:       at,
		RequestID:  "req-1",
		RemoteAddr: "10.0.0.1:5555",
		Method:     "POST",
		Path:       "/elements/api-v2/events/closeio/abc",
		Status:     401,
		Reason:     "bad signature",
		Headers:    map[string][]string{"Content-Type": {"application/json"}, "X-A": {"1", "2"}},
		Body:       `{"x":1}`,
		Truncated:  true,
	}
	if err := s.AddRejected(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 10; i++ {
		if err := s.AddRejected(t.Context(), Rejected{RequestID: fmt.Sprint("req-", i), Status: 400 + i}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.RejectedCount(t.Context()); n != 10 {
		t.Errorf("RejectedCount = %d", n)
	}
	all, next, err := s.RejectedList(t.Context(), 0, 100)
	if err != nil || len(all) != 10 || next != 0 {
		t.Fatalf("list all: %d, next %d, %v", len(all), next, err)
	}
	for i, r := range all {
		if r.ID != strconv.Itoa(10-i) || r.RequestID != fmt.Sprint("req-", 10-i) {
			t.Errorf("position %d: id %s request %s, want newest first", i, r.ID, r.RequestID)
		}
	}
	want := first
	want.ID = "1"
	if got := all[9]; !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}

	// Paging returns each entry once, newest first.
	for _, limit := range []int{1, 3, 5, 9, 10} {
		var ids []string
		before := uint64(0)
		for pages := 0; pages < 100; pages++ {
			page, next, err := s.RejectedList(t.Context(), before, limit)
			if err != nil || len(page) > limit {
				t.Fatalf("limit %d: %d entries, %v", limit, len(page), err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if next == 0 {
				break
			}
			before = next
		}
		if want := []string{"10", "9", "8", "7", "6", "5", "4", "3", "2", "1"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("limit %d: paged %v", limit, ids)
		}
	}
	if page, _, _ := s.RejectedList(t.Context(), 1000, 2); len(page) != 2 || page[0].ID != "10" {
		t.Errorf("before beyond the newest: %+v", page)
	}
	if page, next, _ := s.RejectedList(t.Context(), 1, 5); len(page) != 0 || next != 0 {
		t.Errorf("before the oldest: %+v, %d", page, next)
	}
	if page, _, _ := s.RejectedList(t.Context(), 0, 0); len(page) != 10 {
		t.Errorf("limit 0 (default) gave %d", len(page))
	}
}

func TestRejectedCapacity(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	const extra = 25
	total := RejectedCapacity + extra
	// Slowly enough to be kept (a second per 10), written in batches of
	// 100, so evictions also happen inside one batch.
	for i := 1; i <= total; i++ {
		clock.Advance(time.Second / 10)
		if err := s.AddRejected(t.Context(), Rejected{RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := s.flushRejected(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, _ := s.RejectedCount(t.Context()); n != RejectedCapacity {
		t.Errorf("ring holds %d, want %d", n, RejectedCapacity)
	}
	var ids []uint64
	before := uint64(0)
	for {
		page, nxt, err := s.RejectedList(t.Context(), before, 300)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			id, _ := strconv.ParseUint(r.ID, 10, 64)
			ids = append(ids, id)
		}
		if nxt == 0 {
			break
		}
		before = nxt
	}
	if len(ids) != RejectedCapacity {
		t.Fatalf("listed %d, want %d", len(ids), RejectedCapacity)
	}
	// Newest kept, oldest evicted.
	if ids[0] != uint64(total) || ids[len(ids)-1] != uint64(extra+1) {
		t.Errorf("ring spans ids %d..%d, want %d..%d", ids[len(ids)-1], ids[0], extra+1, total)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]-1 {
			t.Fatalf("gap or disorder at %d: %d after %d", i, ids[i], ids[i-1])
		}
	}
	// One more evicts exactly the oldest.
	if err := s.AddRejected(t.Context(), Rejected{}); err != nil {
		t.Fatal(err)
	}
	page, _, _ := s.RejectedList(t.Context(), uint64(extra+3), 10)
	if len(page) != 1 || page[0].ID != strconv.Itoa(extra+2) {
		t.Errorf("after one more, the oldest should be %d: %+v", extra+2, page)
	}
	if n, _ := s.RejectedCount(t.Context()); n != RejectedCapacity {
		t.Errorf("ring holds %d after one more", n)
	}
}

// A flood of rejections is not a commit each: a burst is kept, the rest is
// counted in an entry of its own, and the whole flood costs a few page
// writes. (An unauthenticated 404 flood wrote 295 MiB in 10 s and pushed
// every earlier entry out of the ring.)
func TestRejectedFloodIsBatchedAndCounted(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	const flood = 10000
	pageWrites := func() int64 { st := s.db.Stats(); return st.TxStats.GetWrite() }
	before := pageWrites()
	for i := 0; i < flood; i++ {
		if err := s.AddRejected(t.Context(), Rejected{RequestID: fmt.Sprint(i), Status: 404}); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err := s.RejectedList(t.Context(), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != RejectedBurst+1 {
		t.Fatalf("%d entries after a flood of %d, want the burst of %d and one count", len(list), flood, RejectedBurst)
	}
	if got := list[0]; got.Dropped != flood-RejectedBurst || got.Method != "" {
		t.Errorf("newest entry %+v, want the count of %d dropped", got, flood-RejectedBurst)
	}
	if list[1].RequestID != fmt.Sprint(RejectedBurst-1) || list[RejectedBurst].RequestID != "0" {
		t.Errorf("kept %s..%s, want the first %d in order", list[RejectedBurst].RequestID, list[1].RequestID, RejectedBurst)
	}
	// One transaction wrote them: a handful of pages, not one or more per
	// rejection.
	writes := pageWrites() - before
	t.Logf("%d page writes for a flood of %d rejections", writes, flood)
	if writes > 200 {
		t.Errorf("%d page writes for a flood of %d, want one batch", writes, flood)
	}

	// Over time the rate refills: 10 s later, RejectedRate a second (up to
	// the burst) are kept again.
	clock.Advance(5 * time.Second)
	for i := 0; i < 1000; i++ {
		_ = s.AddRejected(t.Context(), Rejected{Status: 401})
	}
	list, _, _ = s.RejectedList(t.Context(), 0, 500)
	if len(list) != RejectedBurst+1+5*RejectedRate+1 {
		t.Errorf("%d entries after 5 s more, want %d", len(list), RejectedBurst+1+5*RejectedRate+1)
	}
	if list[0].Dropped != 1000-5*RejectedRate {
		t.Errorf("second count %d, want %d", list[0].Dropped, 1000-5*RejectedRate)
	}
}

// Without anyone reading the log, queued rejections are written within
// RejectedFlushEvery, and Close writes what is still queued.
func TestRejectedWrittenInBackgroundAndOnClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir+"/ed.db", Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() int {
		var n int
		_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketRejected).Stats().KeyN; return nil })
		return n
	}
	if err := s.AddRejected(t.Context(), Rejected{RequestID: "a"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * RejectedFlushEvery)
	for stored() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("a queued rejection was not written in the background")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.AddRejected(t.Context(), Rejected{RequestID: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRejected(t.Context(), Rejected{}); err == nil {
		t.Error("AddRejected after Close did not fail")
	}
	s, err = Open(dir+"/ed.db", Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if list, _, _ := s.RejectedList(t.Context(), 0, 10); len(list) != 2 || list[0].RequestID != "b" {
		t.Errorf("after Close and reopen: %+v, want b then a", list)
	}
}
