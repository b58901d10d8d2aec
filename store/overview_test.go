package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Overview tells waiting, failing and dead notifications apart per
// instance, dates each queue by its oldest undelivered notification and
// marks a queue held when that one has failed.
func TestOverviewQueues(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	a := obInstance(t, s, "a", true, "https://example.com/a")
	b := obInstance(t, s, "b", true, "https://example.com/b")
	obInstance(t, s, "quiet", true, "https://example.com/c")
	tA := clock.Now()
	for _, id := range []string{"a1", "a2", "a3", "a4"} {
		mustAppend(t, s, webhookEvent(a.ID, id, id))
	}
	clock.Advance(time.Hour)
	tB := clock.Now()
	mustAppend(t, s, webhookEvent(b.ID, "b1", "1"))
	mustAppend(t, s, webhookEvent(b.ID, "b2", "2"))
	na, nb := obNotifications(t, s, a.ID), obNotifications(t, s, b.ID)
	attempt := func(n model.Notification, state model.NotificationState) AttemptRecord {
		return AttemptRecord{State: state, NextAttempt: clock.Now().Add(time.Minute), Attempt: model.Attempt{
			NotificationID: n.ID, N: n.Attempts + 1, Time: clock.Now(), Status: 500}}
	}
	// a: the head failed once (held), the second is dead, two wait.
	// b: the head was delivered and the next one failed: it is the head
	// now, so b is held too.
	err := s.RecordAttempts(t.Context(), []AttemptRecord{
		attempt(na[0], model.StatePending),
		attempt(na[1], model.StateDead),
		attempt(nb[0], model.StateDelivered),
		attempt(nb[1], model.StatePending),
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	o, err := s.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []InstanceQueue{
		{InstanceID: a.ID, ElementKey: "pipedrive", Pending: 2, Failing: 1, Dead: 1, OldestPending: tA, Held: true},
		{InstanceID: b.ID, ElementKey: "pipedrive", Failing: 1, OldestPending: tB, Held: true},
	}
	for i := range o.Queues {
		o.Queues[i].OldestPending = o.Queues[i].OldestPending.UTC()
	}
	if !reflect.DeepEqual(o.Queues, want) {
		t.Errorf("queues\n got %+v\nwant %+v", o.Queues, want)
	}
	if o.Instances != 3 || o.Pending != 2 || o.Failing != 2 || o.Dead != 1 || o.LastEventID != 6 || !o.At.Equal(clock.Now()) || o.DBBytes <= 0 {
		t.Errorf("overview %+v", o)
	}
	// The status bar's old counts agree: pending there is pending+failing.
	if p, d, _ := s.NotificationCounts(t.Context()); p != o.Pending+o.Failing || d != o.Dead {
		t.Errorf("NotificationCounts %d, %d; overview pending+failing %d, dead %d", p, d, o.Pending+o.Failing, o.Dead)
	}
}

// A queue whose head only waits is not held, even with a failing
// notification behind it (a replay or a parallel delivery can leave one).
func TestOverviewNotHeldBehindWaitingHead(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	a := obInstance(t, s, "a", true, "https://example.com/a")
	mustAppend(t, s, webhookEvent(a.ID, "a1", "1"))
	mustAppend(t, s, webhookEvent(a.ID, "a2", "2"))
	na := obNotifications(t, s, a.ID)
	err := s.RecordAttempts(t.Context(), []AttemptRecord{{State: model.StatePending, NextAttempt: clock.Now(), Attempt: model.Attempt{NotificationID: na[1].ID, N: 1, Time: clock.Now(), Status: 503}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Queues) != 1 || o.Queues[0].Held || o.Queues[0].Pending != 1 || o.Queues[0].Failing != 1 {
		t.Errorf("queues %+v", o.Queues)
	}
}
