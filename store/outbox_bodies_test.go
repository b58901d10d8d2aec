package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// rawRecord is a notification's stored record and its body entry.
func rawRecord(t *testing.T, s *Store, seq uint64) (record, body []byte) {
	t.Helper()
	if err := s.db.View(func(tx *bolt.Tx) error {
		record = append([]byte(nil), tx.Bucket(bucketOutbox).Get(u64(seq))...)
		body = append([]byte(nil), tx.Bucket(bucketBodies).Get(u64(seq))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return record, body
}

// An attempt outcome must not rewrite the body: the record it rewrites is
// the small one, and the body stays byte for byte what was signed.
func TestOutcomeRewritesOnlyTheSmallRecord(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	in := obInstance(t, s, "bodies", true, "https://receiver.example/cb")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "42"))
	n := obNotifications(t, s, in.ID)[0]
	full, err := s.Notification(t.Context(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Body) == 0 {
		t.Fatal("a new notification has no body")
	}
	rec, body := rawRecord(t, s, n.Seq())
	if !bytes.Equal(body, full.Body) {
		t.Fatalf("body bucket holds %q, Notification returned %q", body, full.Body)
	}
	if bytes.Contains(rec, full.Body) {
		t.Fatal("the notification's record carries its body too")
	}

	clock.Advance(time.Second)
	at := clock.Now()
	if err := s.RecordAttempts(t.Context(), []AttemptRecord{{
		Attempt: model.Attempt{NotificationID: n.ID, N: 1, Time: at, Status: 500, Error: "HTTP 500"},
		State:   model.StatePending, NextAttempt: at.Add(4 * time.Second),
	}}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Notification(t.Context(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after.Body, full.Body) || after.Attempts != 1 || after.LastStatus != 500 {
		t.Fatalf("after an attempt: attempts %d, status %d, body changed %v", after.Attempts, after.LastStatus, !bytes.Equal(after.Body, full.Body))
	}
	if listed := obNotifications(t, s, in.ID)[0]; listed.Body != nil {
		t.Fatalf("Notifications lists bodies: %q", listed.Body)
	}
}

// A file written before bodies had their own bucket keeps its records with
// the body inline: they read, deliver, replay and prune as new ones do, and
// a rewrite moves the body out.
func TestInlineBodiesOfEarlierFiles(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	in := obInstance(t, s, "old", true, "https://receiver.example/cb")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"))
	mustAppend(t, s, webhookEvent(in.ID, "v2", "2"))
	ns := obNotifications(t, s, in.ID)
	if len(ns) != 2 {
		t.Fatalf("%d notifications, want 2", len(ns))
	}
	bodies := map[uint64][]byte{}
	// Rewrite both records in the earlier layout: a uvarint length, the
	// notification as JSON, the body inline, none in the body bucket;
	// schema version 2.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, n := range ns {
			body := tx.Bucket(bucketBodies).Get(u64(n.Seq()))
			bodies[n.Seq()] = append([]byte(nil), body...)
			meta, err := json.Marshal(n)
			if err != nil {
				return err
			}
			old := binary.AppendUvarint(nil, uint64(len(meta)))
			old = append(append(old, meta...), body...)
			if err := tx.Bucket(bucketOutbox).Put(u64(n.Seq()), old); err != nil {
				return err
			}
			if err := tx.Bucket(bucketBodies).Delete(u64(n.Seq())); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(2))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("open a version 2 file: %v", err)
	}
	defer s.Close()
	if err := s.db.View(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)); v != SchemaVersion {
			t.Errorf("schema version %d after open, want %d", v, SchemaVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	first, second := ns[0], ns[1]
	for _, n := range ns {
		got, err := s.Notification(t.Context(), n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, bodies[n.Seq()]) || !json.Valid(got.Body) {
			t.Fatalf("notification %s of the old file reads body %q, want %q", n.ID, got.Body, bodies[n.Seq()])
		}
	}
	pending, err := s.PendingNotifications(t.Context(), in.ID, 0, 10)
	if err != nil || len(pending) != 2 || !bytes.Equal(pending[0].Body, bodies[first.Seq()]) {
		t.Fatalf("PendingNotifications of the old file: %d, %v", len(pending), err)
	}
	// The dispatcher's batch read takes the inline bodies as they are.
	seqs := []uint64{first.Seq(), second.Seq()}
	readBatch := func(when string) {
		t.Helper()
		batch, err := s.NotificationsBySeq(t.Context(), seqs, 0)
		if err != nil || len(batch) != 2 {
			t.Fatalf("NotificationsBySeq of the old file %s: %d, %v", when, len(batch), err)
		}
		for i, n := range batch {
			if n.Seq() != seqs[i] || !bytes.Equal(n.Body, bodies[seqs[i]]) {
				t.Fatalf("NotificationsBySeq of the old file %s: %s with body %q, want %d with %q", when, n.ID, n.Body, seqs[i], bodies[seqs[i]])
			}
		}
	}
	readBatch("before any rewrite")

	// An outcome moves the body out of the record and keeps it whole.
	clock.Advance(time.Second)
	at := clock.Now()
	if err := s.RecordAttempts(t.Context(), []AttemptRecord{
		{Attempt: model.Attempt{NotificationID: first.ID, N: 1, Time: at, Status: 200}, State: model.StateDelivered},
		{Attempt: model.Attempt{NotificationID: second.ID, N: 1, Time: at, Status: 400}, State: model.StateDead},
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		rec, body := rawRecord(t, s, n.Seq())
		if !bytes.Equal(body, bodies[n.Seq()]) || bytes.Contains(rec, bodies[n.Seq()]) {
			t.Fatalf("notification %s after its outcome: body bucket %q, record still inline %v", n.ID, body, bytes.Contains(rec, bodies[n.Seq()]))
		}
	}
	readBatch("after the bodies moved out")
	// Replay of the dead one returns it with its body.
	r, err := s.Replay(t.Context(), second.ID)
	if err != nil || !bytes.Equal(r.Body, bodies[second.Seq()]) || r.State != model.StatePending {
		t.Fatalf("Replay: state %s, body %q, %v", r.State, r.Body, err)
	}
	// Pruning the delivered one removes its body as well.
	clock.Advance(8 * 24 * time.Hour)
	if _, err := s.Prune(t.Context(), clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rec, body := rawRecord(t, s, first.Seq()); len(rec) != 0 || len(body) != 0 {
		t.Fatalf("pruned notification %s left record %d bytes, body %d bytes", first.ID, len(rec), len(body))
	}
	if _, body := rawRecord(t, s, second.Seq()); !bytes.Equal(body, bodies[second.Seq()]) {
		t.Fatal("prune removed the body of a pending notification")
	}
}
