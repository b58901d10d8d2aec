package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// TestReserveNeverOverwritesPages writes zeros ahead of the last page in
// chunks of two pages while 16 writers append, so a chunk goes between
// almost every pair of commits: a chunk written over a page a commit
// allocated would zero an event's body or a branch of the tree.
func TestReserveNeverOverwritesPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	const ahead, chunk = 64 << 10, 8 << 10
	s, err := Open(path, Options{reserveAhead: ahead, reserveChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 40
	body := func(w, i int) string {
		return fmt.Sprintf(`{"id":"%d-%d","pad":"%s"}`, w, i, strings.Repeat(fmt.Sprint(w%10), 900))
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := webhookEvent(int64(w%4+1), fmt.Sprintf("v%d-%d", w, i), fmt.Sprintf("%d-%d", w, i))
				e.Raw = []byte(body(w, i))
				if _, err := s.AppendEvents(t.Context(), []model.Event{e}); err != nil {
					t.Errorf("append %d-%d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The file grew by about 16 × 40 × 1.2 KB = 770 KB: ninety chunks or
	// so, most of them between commits.
	if n := s.reserve.chunks.Load(); n < 40 {
		t.Fatalf("the reserve wrote %d chunks; the test needs it to write between commits", n)
	}
	check := func(s *Store) {
		t.Helper()
		all, err := s.EventsAfter(t.Context(), 0, writers*each+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != writers*each {
			t.Fatalf("%d events read back, want %d", len(all), writers*each)
		}
		for _, e := range all {
			var w, i int
			fmt.Sscanf(e.ObjectID, "%d-%d", &w, &i)
			if string(e.Raw) != body(w, i) {
				t.Fatalf("event %s (object %s) has body %.60q…, want %.60q…", e.ID, e.ObjectID, e.Raw, body(w, i))
			}
		}
		err = s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("bbolt check: %v", err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// TestReserveKeepsZerosAhead checks what the reserve is for: past the last
// page the file holds blocks of zeros, topped up as the pages grow.
func TestReserveKeepsZerosAhead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	const ahead, chunk = 256 << 10, 32 << 10
	s, err := Open(path, Options{reserveAhead: ahead, reserveChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round := range 3 {
		for i := range 100 {
			e := webhookEvent(1, fmt.Sprintf("v%d-%d", round, i), fmt.Sprint(i))
			e.Raw = []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
			if _, err := s.AppendEvents(t.Context(), []model.Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		last, err := s.UsedBytes(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 5*time.Second, fmt.Sprintf("round %d: %d bytes of zeros past the last page at %d", round, ahead/2, last), func() bool {
			fi, err := os.Stat(path)
			return err == nil && fi.Size()-last >= ahead/2
		})
		// Read outside bbolt: the reserve's zeros are in the file, not
		// only a size set by truncation (bbolt's holes read as zeros
		// too, so the blocks' allocation is checked below).
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if tail := data[last:]; !bytes.Equal(tail, make([]byte, len(tail))) {
			t.Fatalf("round %d: bytes past the last page are not all zero", round)
		}
		// Everything up to the last page is allocated, being written; the
		// reserve's zeros must be too (bbolt's truncation leaves holes).
		if alloc := allocatedBytes(t, path); alloc >= 0 && alloc < last+ahead/2 {
			t.Fatalf("round %d: %d bytes allocated, want at least %d: the reserve left holes", round, alloc, last+ahead/2)
		}
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReserveOnAFullDiskLeavesCommitsAlone fails every write of zeros, as
// a full disk does: every append still commits and reads back, and the
// reserve tries once, then waits, instead of failing at every commit.
func TestReserveOnAFullDiskLeavesCommitsAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	var tries atomic.Int64
	full := func(off int64) error {
		tries.Add(1)
		return syscall.ENOSPC
	}
	s, err := Open(path, Options{reserveAhead: 64 << 10, reserveChunk: 8 << 10, reserveFault: full})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 300
	for i := range n {
		e := webhookEvent(1, fmt.Sprint("v", i), fmt.Sprint(i))
		e.Raw = []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
		if _, err := s.AppendEvents(t.Context(), []model.Event{e}); err != nil {
			t.Fatalf("append %d with the reserve failing: %v", i, err)
		}
	}
	all, err := s.EventsAfter(t.Context(), 0, n+1)
	if err != nil || len(all) != n {
		t.Fatalf("%d events read back (%v), want %d", len(all), err, n)
	}
	waitUntil(t, 5*time.Second, "the failed top-up to be counted", func() bool { return s.reserve.failures.Load() >= 1 })
	if got := tries.Load(); got != 1 {
		t.Errorf("%d writes of zeros tried over %d commits; want 1, then a pause of %s", got, n, reserveRetry)
	}
	if got := s.reserve.chunks.Load(); got != 0 {
		t.Errorf("%d chunks counted as written on a full disk", got)
	}
}
