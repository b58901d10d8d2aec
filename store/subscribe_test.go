package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestSubscribeWakesOnCommit(t *testing.T) {
	s := openTest(t, nil)
	sub := s.Subscribe()
	defer sub.Close()

	mustAppend(t, s, webhookEvent(1, "", "a"))
	within(t, sub.C, 5*time.Second, "a signal after AppendEvents")

	if err := s.AddRejected(t.Context(), Rejected{Status: 400}); err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal after AddRejected")

	in, err := s.CreateInstance(t.Context(), closeioInstance(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal after CreateInstance")
	if _, err := s.UpdateInstance(t.Context(), in.ID, func(i model.Instance) (model.Instance, error) { return i, nil }); err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal after UpdateInstance")
	if err := s.DeleteInstance(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	within(t, sub.C, 5*time.Second, "a signal after DeleteInstance")
}

func TestSubscribeFollowsEveryEvent(t *testing.T) {
	s := openTest(t, nil)
	sub := s.Subscribe()
	defer sub.Close()
	const n = 100
	go func() {
		for i := 0; i < n; i++ {
			if _, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "", "x")}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// A reader that waits on C and reads what is new sees every event once,
	// however the signals coalesce.
	var after uint64
	seen := 0
	for seen < n {
		within(t, sub.C, 10*time.Second, fmt.Sprintf("a signal (seen %d of %d)", seen, n))
		batch, err := s.EventsAfter(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			if e.Seq() != after+1 {
				t.Fatalf("got event %d after %d", e.Seq(), after)
			}
			after = e.Seq()
			seen++
		}
	}
}

func TestSlowSubscriberDoesNotBlockWriters(t *testing.T) {
	s := openTest(t, nil)
	sub := s.Subscribe() // never read
	defer sub.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			mustAppend(t, s, webhookEvent(1, "", "x"))
		}
	}()
	within(t, done, 10*time.Second, "writes with an unread subscription")
	within(t, sub.C, 5*time.Second, "the coalesced signal")
}

func TestSubscriptionClose(t *testing.T) {
	s := openTest(t, nil)
	sub := s.Subscribe()
	other := s.Subscribe()
	defer other.Close()
	sub.Close()
	sub.Close() // idempotent
	select {
	case _, ok := <-sub.C:
		if ok {
			t.Error("C delivered a value after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not close C")
	}
	// Commits after a subscription closed neither panic nor starve others.
	mustAppend(t, s, webhookEvent(1, "", "x"))
	within(t, other.C, 5*time.Second, "the remaining subscriber")
}

func TestStoreCloseEndsSubscriptions(t *testing.T) {
	s := openTest(t, nil)
	subs := []*Subscription{s.Subscribe(), s.Subscribe(), s.Subscribe()}
	subs[0].Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		select {
		case _, ok := <-sub.C:
			if ok {
				// a pending signal is allowed; the channel must then be closed
				if _, ok := <-sub.C; ok {
					t.Errorf("subscription %d still open after store Close", i)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription %d not closed by store Close", i)
		}
		sub.Close() // after store Close: no panic
	}
	late := s.Subscribe()
	select {
	case _, ok := <-late.C:
		if ok {
			t.Error("Subscribe after Close delivered a value")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe after Close returned an open channel")
	}
	late.Close()
}

func TestSubscribeCloseRacesWithCommits(t *testing.T) {
	s := openTest(t, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "", "x")}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		sub := s.Subscribe()
		if i%2 == 0 {
			within(t, sub.C, 5*time.Second, "a signal")
		}
		sub.Close()
	}
	close(stop)
	wg.Wait()
}
