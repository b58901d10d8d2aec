package store

import (
	"bytes"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

// NotificationsBySeq is how a dispatcher lane reads the next notifications
// it sends: in the order asked, with the bodies that were signed, a gap
// for one that is gone, and no more bodies than the limit allows.
func TestNotificationsBySeq(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	in := obInstance(t, s, "batch", true, "https://receiver.example/cb")
	other := obInstance(t, s, "other", true, "https://other.example/cb")
	for i := range 4 {
		mustAppend(t, s, webhookEvent(in.ID, "v"+string(rune('a'+i)), "1"))
	}
	mustAppend(t, s, webhookEvent(other.ID, "o1", "1"))
	ns := obNotifications(t, s, in.ID)
	theirs := obNotifications(t, s, other.ID)[0]
	bodies := map[uint64][]byte{}
	for _, n := range append(ns, theirs) {
		full, err := s.Notification(t.Context(), n.ID)
		if err != nil {
			t.Fatal(err)
		}
		bodies[n.Seq()] = full.Body
	}
	// The first is delivered: it is still read, with its state.
	if err := s.RecordAttempts(t.Context(), []AttemptRecord{{
		Attempt: model.Attempt{NotificationID: ns[0].ID, N: 1, Time: clock.Now(), Status: 200},
		State:   model.StateDelivered,
	}}); err != nil {
		t.Fatal(err)
	}
	const missing = 9999
	size := func(seqs ...uint64) int {
		n := 0
		for _, seq := range seqs {
			n += len(bodies[seq])
		}
		return n
	}
	s2, s1, s3, s0 := ns[2].Seq(), ns[1].Seq(), ns[3].Seq(), ns[0].Seq()
	for _, c := range []struct {
		name     string
		seqs     []uint64
		maxBytes int
		want     []uint64 // 0: the zero Notification
	}{
		{"order asked, gaps kept", []uint64{s2, s1, missing, theirs.Seq(), s0}, 0, []uint64{s2, s1, 0, theirs.Seq(), s0}},
		{"bodies up to the limit", []uint64{s1, s2, s3}, size(s1, s2), []uint64{s1, s2}},
		{"one byte short of two", []uint64{s1, s2, s3}, size(s1, s2) - 1, []uint64{s1}},
		{"at least one whatever the limit", []uint64{s3, s1}, 1, []uint64{s3}},
		{"a gap costs no bytes", []uint64{missing, s1, s2}, size(s1), []uint64{0, s1}},
		{"none asked", nil, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.NotificationsBySeq(t.Context(), c.seqs, c.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d notifications, want %d", len(got), len(c.want))
			}
			for i, seq := range c.want {
				n := got[i]
				if seq == 0 {
					if n.ID != "" || n.Body != nil {
						t.Errorf("[%d] = %s with %d bytes of body, want the zero Notification for a missing one", i, n.ID, len(n.Body))
					}
					continue
				}
				if n.Seq() != seq || !bytes.Equal(n.Body, bodies[seq]) || len(n.Body) == 0 {
					t.Errorf("[%d] = %s with body %q, want %d with its body %q", i, n.ID, n.Body, seq, bodies[seq])
				}
			}
			// Bodies share one buffer; appending to one must not write
			// into the next.
			if len(got) > 1 && got[0].Body != nil {
				next := append([]byte(nil), got[1].Body...)
				_ = append(got[0].Body, "xxxxxxxx"...)
				if got[1].Body != nil && !bytes.Equal(got[1].Body, next) {
					t.Errorf("appending to one body changed the next: %q", got[1].Body)
				}
			}
		})
	}
	got, err := s.NotificationsBySeq(t.Context(), []uint64{s0, theirs.Seq(), s1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].State != model.StateDelivered || got[1].InstanceID != other.ID || got[2].State != model.StatePending || got[2].InstanceID != in.ID {
		t.Errorf("states and instances read: %s/%d, %s/%d, %s/%d; want delivered, the other instance's, pending",
			got[0].State, got[0].InstanceID, got[1].State, got[1].InstanceID, got[2].State, got[2].InstanceID)
	}
	if got[1].WebhookID != theirs.WebhookID || !got[2].CreatedAt.Equal(ns[1].CreatedAt) || len(got[2].EventIDs) != 1 {
		t.Errorf("records read incompletely: %+v", got[2])
	}
}
