package postgres_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

func webhookEvent(inst int64, vendorID, objectID string) model.Event {
	return model.Event{
		InstanceID: inst, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
		ObjectType: "contacts", ObjectID: objectID, EventType: model.Updated, VendorEventID: vendorID,
		Raw: json.RawMessage(`{"id":"` + objectID + `"}`),
	}
}

func within(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnotherStoresCommitsWakeSubscribers(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openTest(t, url), openTest(t, url)
	sub := b.Subscribe()
	defer sub.Close()
	if _, err := a.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "x", "1")}); err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal on b after a's AppendEvents")
	got, err := b.EventsAfter(t.Context(), 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("b reads %v (%v)", got, err)
	}
	v := b.InstancesVersion()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "closeio"},
		Configuration: map[string]json.RawMessage{model.KeyCloseAPIKey: json.RawMessage(`"k"`)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b's InstancesVersion to move after a's CreateInstance", func() bool { return b.InstancesVersion() != v })
}

// Replicas receiving the same deliveries at once store each once, and a
// reader following ids sees every event once, in order, with no gap: ids
// follow commit order across stores.
func TestReplicasStoreEachDeliveryOnceWithIDsInCommitOrder(t *testing.T) {
	url := pgtest.URL(t)
	const replicas, writers, perWriter = 3, 4, 40
	stores := make([]*postgres.Store, replicas)
	for i := range stores {
		stores[i] = openTest(t, url)
	}
	reader := stores[0]
	sub := reader.Subscribe()
	defer sub.Close()

	var wg sync.WaitGroup
	stored := make(chan int, replicas*writers)
	for r := range replicas {
		for w := range writers {
			wg.Go(func() {
				n := 0
				for i := range perWriter {
					// Every replica's writer w sends the same deliveries.
					res, err := stores[r].AppendEvents(t.Context(), []model.Event{webhookEvent(1, fmt.Sprint(w, "-", i), "o")})
					if err != nil {
						t.Error(err)
						return
					}
					n += len(res.Stored)
				}
				stored <- n
			})
		}
	}
	var after uint64
	seen := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; ; {
		select {
		case <-sub.C:
		case <-done:
			finished = true
		case <-time.After(10 * time.Second):
			t.Fatal("no signal for 10 s")
		}
		batch, err := reader.EventsAfter(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			if e.Seq() != after+1 {
				t.Fatalf("event %d after %d: ids skip or repeat", e.Seq(), after)
			}
			after = e.Seq()
			seen++
		}
		if finished {
			break
		}
	}
	close(stored)
	total := 0
	for n := range stored {
		total += n
	}
	if total != writers*perWriter || seen != writers*perWriter {
		t.Fatalf("stored %d, read %d; want each of %d deliveries once", total, seen, writers*perWriter)
	}
}

// A store keeps working across a server restart, and its subscribers are
// woken once it listens again.
func TestStoreReconnectsAfterARestart(t *testing.T) {
	srv := pgtest.NewServer(t)
	url := srv.NewDatabase(t)
	s := openTest(t, url)
	sub := s.Subscribe()
	defer sub.Close()
	srv.Stop(t)
	if _, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "down", "1")}); err == nil {
		t.Fatal("AppendEvents succeeded with the server down")
	}
	srv.Start(t)
	within(t, sub.C, 15*time.Second, "a signal once the listener is back")
	waitFor(t, 15*time.Second, "a write after the restart", func() bool {
		_, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "up", "1")})
		return err == nil
	})
	other := openTest(t, url)
	for len(sub.C) > 0 {
		<-sub.C
	}
	if _, err := other.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "other", "2")}); err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal for another store's commit after the restart")
}

// With the server stopped under load, no write is acknowledged; after it
// is back, every acknowledged event is stored exactly once.
func TestNothingAcknowledgedIsLostWhenTheServerStops(t *testing.T) {
	srv := pgtest.NewServer(t)
	url := srv.NewDatabase(t)
	s := openTest(t, url)
	var (
		mu     sync.Mutex
		acked  = map[string]bool{}
		failed int
		wg     sync.WaitGroup
		stop   = make(chan struct{})
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprint(w, "-", i)
				res, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, id, id)})
				mu.Lock()
				if err == nil && len(res.Stored) == 1 {
					acked[id] = true
				} else if err != nil {
					failed++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond) // a client backing off
				}
			}
		})
	}
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked), failed
	}
	waitFor(t, 20*time.Second, "writes before the stop", func() bool { n, _ := count(); return n >= 50 })
	srv.Stop(t)
	_, failedBefore := count()
	waitFor(t, 20*time.Second, "failed writes while stopped", func() bool { _, f := count(); return f >= failedBefore+8 })
	ackedWhileDown, _ := count()
	srv.Start(t)
	waitFor(t, 30*time.Second, "writes after the restart", func() bool { n, _ := count(); return n >= ackedWhileDown+50 })
	close(stop)
	wg.Wait()

	events, err := s.EventsAfter(t.Context(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, e := range events {
		stored[e.VendorEventID]++
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Errorf("acknowledged event %s stored %d times", id, stored[id])
		}
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
}
