package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// Transactional outbox: notifications are written in the commit
// that stores their events, and their state indexes stay in step.

// obInstance creates a pipedrive instance; callback "" leaves the URL unset.
func obInstance(t *testing.T, s *Store, name string, enabled bool, callback string) model.Instance {
	t.Helper()
	in := pipedriveInstance(t, name)
	in.Configuration[model.KeyEventsEnabled] = fmt.Sprint(enabled)
	in.Configuration[model.KeyVendorType] = "webhook"
	if callback != "" {
		in.Configuration[model.KeyCallbackURL] = callback
	}
	in, err := s.CreateInstance(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	return in
}

func obNotifications(t *testing.T, s *Store, inst int64) []model.Notification {
	t.Helper()
	list, _, err := s.Notifications(t.Context(), NotificationFilter{InstanceID: inst}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Notifications lists newest first; the tests reason oldest first.
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

func obEventIDs(events []model.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func TestOutboxSameCommit(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	on := obInstance(t, s, "on", true, "https://example.com/hook")
	noURL := obInstance(t, s, "nourl", true, "")
	disabled := obInstance(t, s, "disabled", false, "https://example.com/hook")
	gone := obInstance(t, s, "gone", true, "https://example.com/hook")
	if err := s.SetNotificationsOff(t.Context(), gone.ID, "410 Gone"); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Instance(t.Context(), gone.ID); in.NotificationsOff != "410 Gone" {
		t.Fatalf("NotificationsOff = %q", in.NotificationsOff)
	}

	// One call carrying one webhook event for each instance.
	var batch []model.Event
	for _, in := range []model.Instance{on, noURL, disabled, gone} {
		e := webhookEvent(in.ID, fmt.Sprintf("v-%d", in.ID), "1")
		e.ElementKey = "pipedrive"
		batch = append(batch, e)
	}
	res := mustAppend(t, s, batch...)
	if len(res.Stored) != 4 {
		t.Fatalf("stored %d events, want 4", len(res.Stored))
	}
	for _, in := range []model.Instance{noURL, disabled, gone} {
		if got := obNotifications(t, s, in.ID); len(got) != 0 {
			t.Errorf("instance %s got %d notifications, want none", in.Name, len(got))
		}
	}
	list := obNotifications(t, s, on.ID)
	if len(list) != 1 {
		t.Fatalf("instance on has %d notifications, want 1", len(list))
	}
	n := list[0]
	if n.State != model.StatePending || !n.NextAttempt.Equal(clock.Now()) || !n.CreatedAt.Equal(clock.Now()) ||
		n.Attempts != 0 || n.Source != model.SourceWebhook || n.ObjectType != "contacts" ||
		!reflect.DeepEqual(n.EventIDs, []string{res.Stored[0].ID}) || !strings.HasPrefix(n.WebhookID, "msg_") {
		t.Errorf("notification = %+v", n)
	}
	if n.Body != nil {
		t.Error("Notifications returned bodies")
	}
	full, err := s.Notification(t.Context(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ID      string `json:"id"`
		Message struct {
			EventID    string          `json:"eventId"`
			InstanceID int64           `json:"instanceId"`
			Raw        json.RawMessage `json:"raw"`
		} `json:"message"`
	}
	if err := json.Unmarshal(full.Body, &p); err != nil {
		t.Fatalf("body: %v\n%s", err, full.Body)
	}
	if p.ID != n.ID || p.Message.EventID != res.Stored[0].ID || p.Message.InstanceID != on.ID || string(p.Message.Raw) != `{"id":"1"}` {
		t.Errorf("body = %s", full.Body)
	}

	// Grouping in one call: 25 webhook events → 20+5, 23 polled → 10+10+3.
	var hooks, polled []model.Event
	for i := range 25 {
		e := webhookEvent(on.ID, "", fmt.Sprint(100+i))
		e.ElementKey = "pipedrive"
		hooks = append(hooks, e)
	}
	for i := range 23 {
		polled = append(polled, pollEvent(on.ID, "accounts", fmt.Sprint(200+i), clock.Now()))
	}
	hres := mustAppend(t, s, hooks...)
	pres := mustAppend(t, s, polled...)
	list = obNotifications(t, s, on.ID)
	var sizes []int
	var covered []string
	for _, n := range list[1:] {
		sizes = append(sizes, len(n.EventIDs))
		covered = append(covered, n.EventIDs...)
	}
	if !reflect.DeepEqual(sizes, []int{20, 5, 10, 10, 3}) {
		t.Errorf("group sizes %v, want [20 5 10 10 3]", sizes)
	}
	if want := append(obEventIDs(hres.Stored), obEventIDs(pres.Stored)...); !reflect.DeepEqual(covered, want) {
		t.Errorf("notifications cover %v, want %v", covered, want)
	}
	ids := map[string]bool{}
	for _, n := range list {
		if ids[n.WebhookID] {
			t.Errorf("webhook id %s used twice", n.WebhookID)
		}
		ids[n.WebhookID] = true
	}

	// The delivery indexes.
	pi, err := s.PendingInstances(t.Context())
	if err != nil || !reflect.DeepEqual(pi, []int64{on.ID}) {
		t.Errorf("PendingInstances = %v, %v; want [%d]", pi, err, on.ID)
	}
	pend, err := s.PendingNotifications(t.Context(), on.ID, 0, 100)
	if err != nil || len(pend) != 6 {
		t.Fatalf("PendingNotifications = %d, %v; want 6", len(pend), err)
	}
	for i, n := range pend {
		if n.ID != list[i].ID || len(n.Body) == 0 {
			t.Errorf("pending[%d] = %s (body %d bytes), want %s with body", i, n.ID, len(n.Body), list[i].ID)
		}
	}
	if after, _ := s.PendingNotifications(t.Context(), on.ID, pend[3].Seq(), 2); len(after) != 2 || after[0].ID != pend[4].ID {
		t.Errorf("PendingNotifications after %s = %v", pend[3].ID, after)
	}
	if p, d, err := s.NotificationCounts(t.Context()); p != 6 || d != 0 || err != nil {
		t.Errorf("NotificationCounts = %d, %d, %v; want 6, 0", p, d, err)
	}
	// Duplicates make no second notification.
	dup := webhookEvent(on.ID, fmt.Sprintf("v-%d", on.ID), "1")
	if r := mustAppend(t, s, dup); len(r.Stored) != 0 {
		t.Fatalf("duplicate stored")
	}
	if got := obNotifications(t, s, on.ID); len(got) != 6 {
		t.Errorf("after a duplicate: %d notifications, want 6", len(got))
	}
	// A deleted instance's new events are stored without notifications.
	if err := s.DeleteInstance(t.Context(), on.ID); err != nil {
		t.Fatal(err)
	}
	if r := mustAppend(t, s, webhookEvent(on.ID, "late", "9")); len(r.Stored) != 1 {
		t.Fatal("event of a deleted instance not stored")
	}
	if got := obNotifications(t, s, on.ID); len(got) != 6 {
		t.Errorf("after delete: %d notifications, want 6", len(got))
	}
}

// obSnapshot reads, in one read transaction, the ids of an instance's events
// and the event ids its notifications cover.
func obSnapshot(s *Store, inst int64) (events, notified map[uint64]bool, err error) {
	events, notified = map[uint64]bool{}, map[uint64]bool{}
	err = s.db.View(func(tx *bolt.Tx) error {
		var top uint64
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			top = binary.BigEndian.Uint64(k)
		}
		w := newInstanceSeqs(tx.Bucket(bucketInstanceBlocks), inst, top, 1)
		for seq, ok, _ := w.next(func() bool { return true }); ok; seq, ok, _ = w.next(func() bool { return true }) {
			events[seq] = true
		}
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			n, _, err := decodeMeta(v)
			if err != nil {
				return err
			}
			if n.InstanceID != inst {
				return nil
			}
			for _, id := range n.EventIDs {
				var seq uint64
				if _, err := fmt.Sscan(id, &seq); err != nil {
					return err
				}
				if notified[seq] {
					return fmt.Errorf("event %d in two notifications", seq)
				}
				notified[seq] = true
			}
			return nil
		})
	})
	return events, notified, err
}

func TestOutboxEventsAndNotificationsTogether(t *testing.T) {
	s := openTest(t, nil)
	on := obInstance(t, s, "on", true, "https://example.com/hook")

	// A failure later in the same transaction takes both back.
	boom := errors.New("boom")
	_, err := s.appendEventsWith(t.Context(), []model.Event{webhookEvent(on.ID, "x1", "1")}, func(*bolt.Tx, []model.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("appendEventsWith = %v, want boom", err)
	}
	if ev, no, err := obSnapshot(s, on.ID); err != nil || len(ev) != 0 || len(no) != 0 {
		t.Fatalf("after a failed commit: %d events, %d notified, %v; want none", len(ev), len(no), err)
	}

	// Concurrent writers (group commits) against a reader that must never
	// see one without the other.
	const writers, each = 8, 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	snapshots := 0
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		for {
			ev, no, err := obSnapshot(s, on.ID)
			if err == nil && !reflect.DeepEqual(ev, no) {
				err = fmt.Errorf("snapshot with %d events and %d notified events", len(ev), len(no))
			}
			if err != nil {
				readerErr <- err
				return
			}
			snapshots++
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				batch := []model.Event{webhookEvent(on.ID, fmt.Sprintf("w%d-%d", w, i), fmt.Sprint(i))}
				if i%3 == 0 { // sometimes a poll batch of several
					batch = []model.Event{
						pollEvent(on.ID, "accounts", fmt.Sprintf("%d-%d-a", w, i), time.Now()),
						pollEvent(on.ID, "accounts", fmt.Sprintf("%d-%d-b", w, i), time.Now()),
						pollEvent(on.ID, "deals", fmt.Sprintf("%d-%d-c", w, i), time.Now()),
					}
				}
				if _, err := s.AppendEvents(t.Context(), batch); err != nil {
					t.Errorf("AppendEvents: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	ev, no, err := obSnapshot(s, on.ID)
	if err != nil || len(ev) == 0 || !reflect.DeepEqual(ev, no) {
		t.Fatalf("final: %d events, %d notified, %v", len(ev), len(no), err)
	}
	t.Logf("%d events, %d consistent snapshots", len(ev), snapshots)

	// Both survive a reopen, bodies byte for byte.
	before := obNotifications(t, s, on.ID)
	first, _ := s.Notification(t.Context(), before[0].ID)
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ev2, no2, err := obSnapshot(s2, on.ID); err != nil || !reflect.DeepEqual(ev2, ev) || !reflect.DeepEqual(no2, no) {
		t.Fatalf("after reopen: %d events, %d notified, %v", len(ev2), len(no2), err)
	}
	again, err := s2.Notification(t.Context(), first.ID)
	if err != nil || !bytes.Equal(again.Body, first.Body) || again.WebhookID != first.WebhookID {
		t.Errorf("notification %s changed across reopen: %v", first.ID, err)
	}
}

func TestOutboxAttemptsDeadAndReplay(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	a := obInstance(t, s, "a", true, "https://example.com/a")
	b := obInstance(t, s, "b", true, "https://example.com/b")
	t0 := clock.Now()
	mustAppend(t, s, webhookEvent(a.ID, "a1", "1"))
	mustAppend(t, s, webhookEvent(b.ID, "b1", "1"))
	clock.Advance(time.Hour)
	t1 := clock.Now()
	mustAppend(t, s, webhookEvent(a.ID, "a2", "2"))
	na, nb := obNotifications(t, s, a.ID), obNotifications(t, s, b.ID)
	if len(na) != 2 || len(nb) != 1 {
		t.Fatalf("notifications a=%d b=%d", len(na), len(nb))
	}

	kill := func(n model.Notification, tries int) {
		var recs []AttemptRecord
		for i := 1; i <= tries; i++ {
			st, next := model.StatePending, clock.Now().Add(time.Duration(i)*time.Minute)
			if i == tries {
				st, next = model.StateDead, time.Time{}
			}
			recs = append(recs, AttemptRecord{State: st, NextAttempt: next, Attempt: model.Attempt{
				NotificationID: n.ID, N: n.Attempts + i, Time: clock.Now(), URL: "https://example.com",
				Status: 500, Latency: time.Millisecond, Response: "no",
			}})
		}
		if err := s.RecordAttempts(t.Context(), recs); err != nil {
			t.Fatal(err)
		}
	}
	kill(na[0], 3)
	kill(na[1], 3)
	kill(nb[0], 3)
	if p, d, _ := s.NotificationCounts(t.Context()); p != 0 || d != 3 {
		t.Fatalf("counts pending=%d dead=%d, want 0, 3", p, d)
	}
	if pi, _ := s.PendingInstances(t.Context()); len(pi) != 0 {
		t.Errorf("PendingInstances = %v with everything dead", pi)
	}
	att, err := s.Attempts(t.Context(), na[0].ID)
	if err != nil || len(att) != 3 || att[0].N != 1 || att[2].N != 3 || att[1].Status != 500 {
		t.Fatalf("Attempts = %+v, %v", att, err)
	}
	dead, _, _ := s.Notifications(t.Context(), NotificationFilter{State: model.StateDead}, 10)
	if len(dead) != 3 {
		t.Errorf("dead filter lists %d, want 3", len(dead))
	}

	// ReplayDead honours since and the instance.
	ids, err := s.ReplayDead(t.Context(), a.ID, t1)
	if err != nil || !reflect.DeepEqual(ids, []string{na[1].ID}) {
		t.Fatalf("ReplayDead(a, t1) = %v, %v; want [%s]", ids, err, na[1].ID)
	}
	ids, err = s.ReplayDead(t.Context(), a.ID, t0)
	if err != nil || !reflect.DeepEqual(ids, []string{na[0].ID}) {
		t.Fatalf("ReplayDead(a, t0) = %v, %v; want [%s] (the other is pending already)", ids, err, na[0].ID)
	}
	n, _ := s.Notification(t.Context(), na[0].ID)
	if n.State != model.StatePending || n.Attempts != 3 || n.CycleStart != 3 || n.Tries() != 0 || !n.NextAttempt.Equal(clock.Now()) {
		t.Errorf("replayed = %+v", n)
	}
	if p, d, _ := s.NotificationCounts(t.Context()); p != 2 || d != 1 {
		t.Errorf("counts pending=%d dead=%d, want 2, 1", p, d)
	}
	// Attempt numbers continue across the replay.
	kill(n, 1)
	if att, _ := s.Attempts(t.Context(), n.ID); len(att) != 4 || att[3].N != 4 {
		t.Errorf("attempts after replay = %+v", att)
	}
	// Single replay, and delivery leaves both indexes.
	n, err = s.Replay(t.Context(), nb[0].ID)
	if err != nil || n.State != model.StatePending {
		t.Fatalf("Replay = %+v, %v", n, err)
	}
	err = s.RecordAttempts(t.Context(), []AttemptRecord{{State: model.StateDelivered, Attempt: model.Attempt{NotificationID: n.ID, N: 4, Time: clock.Now(), Status: 204}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Notification(t.Context(), n.ID); got.State != model.StateDelivered || !got.DeliveredAt.Equal(clock.Now()) || got.LastStatus != 204 {
		t.Errorf("delivered = %+v", got)
	}
	if pend, _ := s.PendingNotifications(t.Context(), b.ID, 0, 10); len(pend) != 0 {
		t.Errorf("delivered notification still pending")
	}
	for _, id := range []string{"0", "x", "999"} {
		if _, err := s.Replay(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Replay(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestOutboxNotificationPaging(t *testing.T) {
	s := openTest(t, nil)
	on := obInstance(t, s, "on", true, "https://example.com/hook")
	for i := range 7 {
		mustAppend(t, s, webhookEvent(on.ID, fmt.Sprint("p", i), "1"))
	}
	var got []string
	var before uint64
	for page := 0; page < 10; page++ {
		list, next, err := s.Notifications(t.Context(), NotificationFilter{InstanceID: on.ID, Before: before}, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			got = append(got, n.ID)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if want := []string{"7", "6", "5", "4", "3", "2", "1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	// A cursor beyond the newest starts from the newest.
	if list, next, _ := s.Notifications(t.Context(), NotificationFilter{Before: 1000}, 10); len(list) != 7 || list[0].ID != "7" || next != 0 {
		t.Errorf("Before beyond the end: %d listed, next %d", len(list), next)
	}
	if list, _, _ := s.Notifications(t.Context(), NotificationFilter{Before: 3}, 10); len(list) != 2 || list[0].ID != "2" {
		t.Errorf("Before 3: %+v", list)
	}
}
