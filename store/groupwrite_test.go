package store

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

func TestConcurrentAppendsAllStoredOnce(t *testing.T) {
	s := openTest(t, nil)
	const n = 200
	var wg sync.WaitGroup
	results := make([]AppendResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = s.AppendEvents(t.Context(), []model.Event{webhookEvent(int64(i%5+1), fmt.Sprint("v", i), fmt.Sprint(i))})
		}()
	}
	close(start)
	wg.Wait()

	ids := map[string]int{}
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		r := results[i]
		if len(r.Stored) != 1 || r.Duplicates != 0 || r.Stored[0].ObjectID != fmt.Sprint(i) {
			t.Fatalf("append %d: %+v", i, r)
		}
		if prev, dup := ids[r.Stored[0].ID]; dup {
			t.Fatalf("id %s given to appends %d and %d", r.Stored[0].ID, prev, i)
		}
		ids[r.Stored[0].ID] = i
	}
	all, err := s.EventsAfter(t.Context(), 0, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%d events stored, want %d", len(all), n)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if e.Seq() != uint64(i+1) {
			t.Errorf("ids not dense: position %d has %s", i, e.ID)
		}
		if seen[e.ObjectID] {
			t.Errorf("object %s stored twice", e.ObjectID)
		}
		seen[e.ObjectID] = true
		if want := ids[e.ID]; fmt.Sprint(want) != e.ObjectID {
			t.Errorf("event %s holds object %s, but append %d was told it got that id", e.ID, e.ObjectID, want)
		}
	}
	// Per-instance index agrees.
	total := 0
	for inst := int64(1); inst <= 5; inst++ {
		got := pageAll(t, s, EventFilter{InstanceID: inst}, 7)
		if len(got) != n/5 {
			t.Errorf("instance %d: %d events, want %d", inst, len(got), n/5)
		}
		total += len(got)
	}
	if total != n {
		t.Errorf("index holds %d events, want %d", total, n)
	}
}

func TestConcurrentDuplicatesStoredOnce(t *testing.T) {
	s := openTest(t, nil)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, dups := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "same", "x")})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			stored += len(r.Stored)
			dups += r.Duplicates
			mu.Unlock()
		}()
	}
	wg.Wait()
	if stored != 1 || dups != n-1 {
		t.Errorf("stored %d, duplicates %d; want 1 and %d", stored, dups, n-1)
	}
	if c, _ := s.EventCount(t.Context()); c != 1 {
		t.Errorf("EventCount = %d", c)
	}
}

var bucketTestOutbox = []byte("test_outbox")

// TestFailingWriteIsIsolated forces a failing write into one group with
// good ones: the writer is held inside a commit while the others queue.
func TestFailingWriteIsIsolated(t *testing.T) {
	s := openTest(t, nil)

	// outbox writes one record per stored event, as the notification outbox
	// does, so we can see what survived.
	outbox := func(tx *bolt.Tx, stored []model.Event) error {
		if len(stored) == 0 {
			t.Error("also called with no stored events")
		}
		b, err := tx.CreateBucketIfNotExists(bucketTestOutbox)
		if err != nil {
			return err
		}
		for _, e := range stored {
			if err := b.Put([]byte(e.ObjectID), []byte(e.ID)); err != nil {
				return err
			}
		}
		return nil
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	holdDone := make(chan error, 1)
	go func() {
		_, err := s.appendEventsWith(t.Context(), []model.Event{webhookEvent(1, "hold", "hold")}, func(tx *bolt.Tx, st []model.Event) error {
			// Only the first run holds; a retry, if any, does not block.
			// (A non-blocking send here lost the race with the receiver
			// below when this goroutine ran first.)
			if held.CompareAndSwap(false, true) {
				close(entered)
				<-release
			}
			return outbox(tx, st)
		})
		holdDone <- err
	}()
	within(t, entered, 5*time.Second, "the holding write to start")

	const good = 20
	boom := errors.New("outbox full")
	type result struct {
		i   int
		res AppendResult
		err error
	}
	results := make(chan result, good+1)
	for i := 0; i <= good; i++ {
		go func() {
			also := outbox
			if i == good {
				also = func(tx *bolt.Tx, st []model.Event) error {
					if err := outbox(tx, st); err != nil {
						return err
					}
					return boom
				}
			}
			r, err := s.appendEventsWith(t.Context(), []model.Event{webhookEvent(2, fmt.Sprint("v", i), fmt.Sprint("obj", i))}, also)
			results <- result{i, r, err}
		}()
	}
	// Wait until all of them are queued behind the held commit, so they
	// form one group.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.writer.reqs) < good+1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes queued", len(s.writer.reqs))
		}
		runtime.Gosched()
	}
	close(release)
	if err := within(t, holdDone, 5*time.Second, "holding write"); err != nil {
		t.Fatalf("holding write: %v", err)
	}

	for k := 0; k <= good; k++ {
		r := within(t, results, 10*time.Second, "grouped writes")
		if r.i == good {
			if !errors.Is(r.err, boom) {
				t.Errorf("failing write returned %v, want its own error", r.err)
			}
			if len(r.res.Stored) != 0 || r.res.Duplicates != 0 {
				t.Errorf("failing write reported %+v", r.res)
			}
			continue
		}
		if r.err != nil {
			t.Errorf("good write %d failed alongside the bad one: %v", r.i, r.err)
			continue
		}
		if len(r.res.Stored) != 1 || r.res.Stored[0].ObjectID != fmt.Sprint("obj", r.i) || r.res.Duplicates != 0 {
			t.Errorf("good write %d: %+v", r.i, r.res)
		}
	}

	all, err := s.EventsAfter(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != good+1 {
		t.Errorf("%d events stored, want %d (hold + good ones)", len(all), good+1)
	}
	// The hold's transaction, the group's, and one retry without the
	// failing write (it used to be one more transaction per member).
	if n := s.writer.attempts.Load(); n != 3 {
		t.Errorf("%d transactions for the hold and a group of %d with one failing write, want 3", n, good+1)
	}
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTestOutbox)
		if n := b.Stats().KeyN; n != good+1 {
			t.Errorf("outbox holds %d records, want %d", n, good+1)
		}
		if v := b.Get([]byte(fmt.Sprint("obj", good))); v != nil {
			t.Errorf("failed write left an outbox record")
		}
		for _, e := range all {
			if e.ObjectID == fmt.Sprint("obj", good) {
				t.Errorf("failed write left event %s", e.ID)
			}
			if v := b.Get([]byte(e.ObjectID)); string(v) != e.ID {
				t.Errorf("outbox record for %s is %q, want its event id %s", e.ObjectID, v, e.ID)
			}
		}
		return nil
	})
	// The failed write did not consume its dedupe key: a retry stores it.
	r, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(2, fmt.Sprint("v", good), fmt.Sprint("obj", good))})
	if err != nil || len(r.Stored) != 1 || r.Duplicates != 0 {
		t.Errorf("retry of the failed write: %+v, %v; want stored", r, err)
	}
}

func TestAlsoFailureAlone(t *testing.T) {
	s := openTest(t, nil)
	boom := errors.New("boom")
	_, err := s.appendEventsWith(t.Context(), []model.Event{webhookEvent(1, "v", "x")}, func(*bolt.Tx, []model.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	if n, _ := s.EventCount(t.Context()); n != 0 {
		t.Errorf("%d events stored after a failed also", n)
	}
	// also sees the events with their ids, in the same transaction.
	var seen []model.Event
	res, err := s.appendEventsWith(t.Context(), []model.Event{webhookEvent(1, "v", "x"), webhookEvent(1, "v", "x")}, func(tx *bolt.Tx, st []model.Event) error {
		seen = st
		if tx.Bucket(bucketEvents).Get(u64(st[0].Seq())) == nil {
			t.Error("also does not see the stored event in its transaction")
		}
		return nil
	})
	if err != nil || len(seen) != 1 || seen[0].ID != res.Stored[0].ID || res.Duplicates != 1 {
		t.Errorf("also saw %+v; result %+v, %v", seen, res, err)
	}
}

// TestFailedCommitRetriedOnce fails the commit of a whole group (as a full
// disk or an fsync error does) and checks the group costs one retry, not
// one per member: a transient failure stores every write after one retry,
// a lasting one answers every member with the commit's error and stores
// nothing, and their dedupe keys stay free.
func TestFailedCommitRetriedOnce(t *testing.T) {
	errDisk := errors.New("no space left on device")
	for _, tc := range []struct {
		name  string
		fails int64 // commits that fail after the hold's
		ok    bool
	}{
		{"transient", 1, true},
		{"lasting", 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, nil)
			// Commits after the hold's fail while failing is above zero;
			// a commit that fails leaves nothing behind, as bbolt's
			// rollback after a failed write does.
			var calls, failing atomic.Int64
			failing.Store(tc.fails)
			s.writer.update = func(fn func(*bolt.Tx) error) error {
				return s.db.Update(func(tx *bolt.Tx) error {
					if err := fn(tx); err != nil {
						return err
					}
					if calls.Add(1) > 1 && failing.Add(-1) >= 0 {
						return errDisk
					}
					return nil
				})
			}
			entered, release := make(chan struct{}), make(chan struct{})
			holdDone := make(chan error, 1)
			go func() {
				holdDone <- s.writer.do(func(*bolt.Tx) error {
					close(entered)
					<-release
					return nil
				})
			}()
			within(t, entered, 5*time.Second, "the holding write to start")

			const n = 16
			errs := make(chan error, n)
			for i := range n {
				go func() {
					_, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, fmt.Sprint("v", i), fmt.Sprint("obj", i))})
					errs <- err
				}()
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(s.writer.reqs) < n {
				if time.Now().After(deadline) {
					t.Fatalf("only %d writes queued", len(s.writer.reqs))
				}
				runtime.Gosched()
			}
			close(release)
			if err := within(t, holdDone, 5*time.Second, "holding write"); err != nil {
				t.Fatalf("holding write: %v", err)
			}
			for range n {
				err := within(t, errs, 10*time.Second, "grouped writes")
				if tc.ok && err != nil {
					t.Errorf("write failed after a transient commit failure: %v", err)
				}
				if !tc.ok && !errors.Is(err, errDisk) {
					t.Errorf("write returned %v, want the commit's error", err)
				}
			}
			if got := s.writer.attempts.Load(); got != 3 {
				t.Errorf("%d transactions for the hold and a group of %d whose commit failed, want 3 (one retry)", got, n)
			}
			want := n
			if !tc.ok {
				want = 0
			}
			if got, err := s.EventCount(t.Context()); err != nil || got != want {
				t.Errorf("%d events stored (%v), want %d", got, err, want)
			}
			failing.Store(0)
			r, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "v0", "obj0")})
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok && r.Duplicates != 1 {
				t.Errorf("resend of a stored write: %+v, want a duplicate", r)
			}
			if !tc.ok && len(r.Stored) != 1 {
				t.Errorf("resend of a write whose commit failed: %+v, want stored (its dedupe key was not kept)", r)
			}
		})
	}
}
