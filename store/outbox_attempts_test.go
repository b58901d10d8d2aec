package store

import (
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// An attempt's outcome recorded after its instance was deleted is logged
// but leaves the notification dead; before the fix it came back pending
// and started a delivery lane for a missing instance on every commit.
func TestRecordAttemptAfterDeleteKeepsDead(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	in := obInstance(t, s, "doomed", true, "http://cb.example/x")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"))
	n := obNotifications(t, s, in.ID)[0]
	if err := s.DeleteInstance(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	err := s.RecordAttempts(t.Context(), []AttemptRecord{{
		Attempt: model.Attempt{NotificationID: n.ID, N: 1, Time: clock.Now(), Status: 500},
		State:   model.StatePending, NextAttempt: clock.Now().Add(time.Minute),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Notification(t.Context(), n.ID)
	if got.State != model.StateDead || got.LastError != "instance deleted" {
		t.Errorf("after the late outcome: %s, %q; want dead, instance deleted", got.State, got.LastError)
	}
	if att, _ := s.Attempts(t.Context(), n.ID); len(att) != 1 || att[0].Status != 500 {
		t.Errorf("attempt log = %+v, want the attempt kept", att)
	}
	if ids, _ := s.PendingInstances(t.Context()); len(ids) != 0 {
		t.Errorf("pending instances %v, want none", ids)
	}
	// An outcome for a notification that is gone (pruned) is skipped, not
	// an error that would stall every other outcome of the batch.
	if err := s.RecordAttempts(t.Context(), []AttemptRecord{{Attempt: model.Attempt{NotificationID: "999999", N: 1}}}); err != nil {
		t.Errorf("outcome of a missing notification: %v", err)
	}
}

// The run of failures of a notification starts at its first failed attempt
// and ends with its delivery; the lane's schedule reads it back.
func TestFailingSinceAndSchedule(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	in := obInstance(t, s, "f", true, "http://cb.example/x")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"))
	n := obNotifications(t, s, in.ID)[0]
	t1 := clock.Now()
	rec := func(k int, at time.Time, status int, state model.NotificationState) {
		t.Helper()
		if err := s.RecordAttempts(t.Context(), []AttemptRecord{{Attempt: model.Attempt{NotificationID: n.ID, N: k, Time: at, Status: status}, State: state, NextAttempt: at.Add(time.Minute)}}); err != nil {
			t.Fatal(err)
		}
	}
	rec(1, t1, 500, model.StatePending)
	rec(2, t1.Add(4*time.Second), 500, model.StatePending)
	due, err := s.PendingSchedule(t.Context(), in.ID, 0, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("PendingSchedule = %+v, %v", due, err)
	}
	if d := due[0]; d.Seq != n.Seq() || !d.FailingSince.Equal(t1) || d.Attempts != 2 || !d.NextAttempt.Equal(t1.Add(4*time.Second+time.Minute)) {
		t.Errorf("schedule entry %+v; want failing since the first failure, 2 attempts", d)
	}
	rec(3, t1.Add(20*time.Second), 200, model.StateDelivered)
	if got, _ := s.Notification(t.Context(), n.ID); !got.FailingSince.IsZero() || got.State != model.StateDelivered {
		t.Errorf("delivered: %+v", got)
	}
	if err := s.AbandonOrphans(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
}
