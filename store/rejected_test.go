package store

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestRejectedRoundTripAndPaging(t *testing.T) {
	s := openTest(t, nil)
	if list, next, err := s.RejectedList(0, 10); err != nil || len(list) != 0 || next != 0 {
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
	if err := s.AddRejected(first); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 10; i++ {
		if err := s.AddRejected(Rejected{RequestID: fmt.Sprint("req-", i), Status: 400 + i}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.RejectedCount(); n != 10 {
		t.Errorf("RejectedCount = %d", n)
	}
	all, next, err := s.RejectedList(0, 100)
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
			page, next, err := s.RejectedList(before, limit)
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
	if page, _, _ := s.RejectedList(1000, 2); len(page) != 2 || page[0].ID != "10" {
		t.Errorf("before beyond the newest: %+v", page)
	}
	if page, next, _ := s.RejectedList(1, 5); len(page) != 0 || next != 0 {
		t.Errorf("before the oldest: %+v, %d", page, next)
	}
	if page, _, _ := s.RejectedList(0, 0); len(page) != 10 {
		t.Errorf("limit 0 (default) gave %d", len(page))
	}
}

func TestRejectedCapacity(t *testing.T) {
	s := openTest(t, nil)
	const extra = 25
	total := RejectedCapacity + extra
	// Concurrent adders, so evictions also happen inside group commits.
	var wg sync.WaitGroup
	next := make(chan int, total)
	for i := 1; i <= total; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := s.AddRejected(Rejected{RequestID: fmt.Sprint(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := s.RejectedCount(); n != RejectedCapacity {
		t.Errorf("ring holds %d, want %d", n, RejectedCapacity)
	}
	var ids []uint64
	before := uint64(0)
	for {
		page, nxt, err := s.RejectedList(before, 300)
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
	if err := s.AddRejected(Rejected{}); err != nil {
		t.Fatal(err)
	}
	page, _, _ := s.RejectedList(uint64(extra+3), 10)
	if len(page) != 1 || page[0].ID != strconv.Itoa(extra+2) {
		t.Errorf("after one more, the oldest should be %d: %+v", extra+2, page)
	}
	if n, _ := s.RejectedCount(); n != RejectedCapacity {
		t.Errorf("ring holds %d after one more", n)
	}
}
