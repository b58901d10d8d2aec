package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Run runs the conformance suite against the backend open gives.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Backend, c *Clock)
	}{
		{"AppendAndDedupe", testAppendAndDedupe},
		{"EventPages", testEventPages},
		{"SearchEvents", testSearchEvents},
		{"InstanceCRUD", testInstanceCRUD},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"DeleteInstanceAbandonsPending", testDeleteInstanceAbandonsPending},
		{"PollStatus", testPollStatus},
		{"Rejected", testRejected},
		{"Prune", testPrune},
		{"Settings", testSettings},
		{"Subscribe", testSubscribe},
		{"Overview", testOverview},
		{"Copy", testCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

func testAppendAndDedupe(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	res := mustAppend(t, s, webhookEvent(1, "a", "1"), webhookEvent(1, "b", "2"), webhookEvent(1, "a", "1"))
	if len(res.Stored) != 2 || res.Duplicates != 1 {
		t.Fatalf("first append stored %d, %d duplicates; want 2 and 1", len(res.Stored), res.Duplicates)
	}
	eq(t, "first ids", fmt.Sprint(ids(res.Stored)), fmt.Sprint(fmtIDs(1, 2)))
	// The same vendor id on another instance is another change.
	res = mustAppend(t, s, webhookEvent(1, "a", "1"), webhookEvent(2, "a", "1"))
	if len(res.Stored) != 1 || res.Duplicates != 1 || res.Stored[0].InstanceID != 2 {
		t.Fatalf("repeat stored %v, %d duplicates; want instance 2's only", res.Stored, res.Duplicates)
	}
	date := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)
	res = mustAppend(t, s, pollEvent(1, "deals", "9", date), pollEvent(1, "deals", "9", date), pollEvent(1, "deals", "9", date.Add(time.Second)))
	if len(res.Stored) != 2 || res.Duplicates != 1 {
		t.Fatalf("polled: stored %d, %d duplicates; want 2 and 1", len(res.Stored), res.Duplicates)
	}
	// Without a key nothing is deduplicated.
	res = mustAppend(t, s, webhookEvent(1, "", "x"), webhookEvent(1, "", "x"))
	eq(t, "keyless stored", len(res.Stored), 2)

	got, err := s.Event(ctx, res.Stored[0].ID)
	check(t, err)
	want := res.Stored[0]
	if got.ID != want.ID || got.ObjectID != "x" || string(got.Raw) != `{"id":"x"}` || !got.ReceivedAt.Equal(c.Now()) || got.Source != model.SourceWebhook {
		t.Errorf("Event = %+v, want %+v", got, want)
	}
	for _, id := range []string{"999", "0", "x", ""} {
		if _, err := s.Event(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Event(%q) = %v, want ErrNotFound", id, err)
		}
	}
	// Past the window a change is new again.
	c.Advance(store.DedupeWindow + time.Second)
	res = mustAppend(t, s, webhookEvent(1, "a", "1"))
	eq(t, "stored after the window", len(res.Stored), 1)
	n, err := s.EventCount(ctx)
	check(t, err)
	eq(t, "EventCount", n, 8)
	last, err := s.LastEventID(ctx)
	check(t, err)
	eq(t, "LastEventID", last, 8)
}

func testEventPages(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	var all []model.Event
	for i := range 30 {
		e := webhookEvent(int64(1+i%3), "", strconv.Itoa(i%4))
		if i%5 == 0 {
			e.EventType = model.Created
		}
		all = append(all, mustAppend(t, s, e).Stored...)
		c.Advance(time.Second)
	}
	// follow pages with cursors and returns what they gave, checking
	// each page is newest first.
	follow := func(f store.EventFilter, limit int) []string {
		t.Helper()
		var got []string
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("cursor never ends")
			}
			page, next, err := s.Events(ctx, f, limit)
			check(t, err)
			if len(page) > limit {
				t.Fatalf("page of %d, limit %d", len(page), limit)
			}
			for i := 1; i < len(page); i++ {
				if page[i].Seq() >= page[i-1].Seq() {
					t.Fatalf("page not newest first: %v", ids(page))
				}
			}
			got = append(got, ids(page)...)
			if next == 0 {
				return got
			}
			f.Before = next
		}
	}
	wantOf := func(match func(e model.Event) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if match(all[i]) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.EventFilter
	}{
		{"all", store.EventFilter{}},
		{"instance", store.EventFilter{InstanceID: 2}},
		{"object history", store.EventFilter{InstanceID: 1, ObjectType: "contacts", ObjectID: "3"}},
		{"event type", store.EventFilter{EventType: model.Created}},
		{"since", store.EventFilter{Since: all[20].ReceivedAt}},
		{"until", store.EventFilter{Until: all[5].ReceivedAt}},
	} {
		want := wantOf(func(e model.Event) bool { return tc.f.Match(&e) })
		for _, limit := range []int{1, 7, 100} {
			if got := follow(tc.f, limit); !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d: %v, want %v", tc.name, limit, got, want)
			}
		}
	}
	page, next, err := s.Events(ctx, store.EventFilter{}, 30)
	check(t, err)
	if len(page) != 30 || next != 0 {
		t.Errorf("a page holding everything: %d events, next %d; want 30 and 0", len(page), next)
	}
	page, next, err = s.Events(ctx, store.EventFilter{}, 10)
	check(t, err)
	eq(t, "first page's next", next, page[9].Seq())

	after, err := s.EventsAfter(ctx, 25, 100)
	check(t, err)
	eq(t, "EventsAfter(25)", fmt.Sprint(ids(after)), fmt.Sprint(fmtIDs(26, 27, 28, 29, 30)))
	after, err = s.EventsAfter(ctx, 0, 2)
	check(t, err)
	eq(t, "EventsAfter(0, 2)", fmt.Sprint(ids(after)), fmt.Sprint(fmtIDs(1, 2)))

	first, err := s.FirstEventSince(ctx, all[12].ReceivedAt)
	check(t, err)
	eq(t, "FirstEventSince", first, all[12].Seq())
	first, err = s.FirstEventSince(ctx, c.Now().Add(time.Hour))
	check(t, err)
	eq(t, "FirstEventSince(future)", first, 0)

	counts, lo, _, err := s.InstanceBlockCounts(ctx, 0)
	check(t, err)
	eq(t, "InstanceBlockCounts first", lo, 1)
	eq(t, "instance 1's count", counts[1].Events, 10)
	eq(t, "instance 3's newest", counts[3].Newest, 30)
}

func testInstanceCRUD(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	v0 := s.InstancesVersion()
	a, err := s.CreateInstance(ctx, newInstance(t, "closeio", "a", nil))
	check(t, err)
	if a.ID != 1 || a.Token == "" {
		t.Fatalf("created %d with token %q; want id 1 and a token", a.ID, a.Token)
	}
	v1 := s.InstancesVersion()
	if v1 == v0 {
		t.Error("InstancesVersion did not move on create")
	}
	b, err := s.CreateInstance(ctx, newInstance(t, "pipedrive", "b", nil))
	check(t, err)
	eq(t, "second id", b.ID, 2)
	got, err := s.Instance(ctx, a.ID)
	check(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("Instance = %+v, want %+v", got, a)
	}
	list, err := s.Instances(ctx)
	check(t, err)
	if len(list) != 2 || list[0].ID != 1 || list[1].ID != 2 {
		t.Errorf("Instances = %v", list)
	}

	upd, err := s.UpdateInstance(ctx, a.ID, func(in model.Instance) (model.Instance, error) {
		in.Name = "renamed"
		in.Token = "forged" // not changeable
		return in, nil
	})
	check(t, err)
	if upd.Name != "renamed" || upd.Token != a.Token {
		t.Errorf("updated to %q with token %q", upd.Name, upd.Token)
	}
	if s.InstancesVersion() == v1 {
		t.Error("InstancesVersion did not move on update")
	}
	boom := errors.New("boom")
	if _, err := s.UpdateInstance(ctx, a.ID, func(in model.Instance) (model.Instance, error) { in.Name = "no"; return in, boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateInstance with a failing fn = %v", err)
	}
	got, _ = s.Instance(ctx, a.ID)
	eq(t, "name after a failed update", got.Name, "renamed")
	if _, err := s.UpdateInstance(ctx, 99, func(in model.Instance) (model.Instance, error) { return in, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateInstance(99) = %v, want ErrNotFound", err)
	}

	tok, err := s.KeepPipedriveToken(ctx, b.ID, "new-token")
	check(t, err)
	eq(t, "token kept (one was stored)", tok, "tok_b")

	v2 := s.InstancesVersion()
	check(t, s.DeleteInstance(ctx, a.ID))
	if s.InstancesVersion() == v2 {
		t.Error("InstancesVersion did not move on delete")
	}
	if _, err := s.Instance(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Instance after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteInstance(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if _, err := s.Instance(ctx, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Instance(0) = %v, want ErrNotFound", err)
	}
	// Ids are never reused.
	d, err := s.CreateInstance(ctx, newInstance(t, "closeio", "d", nil))
	check(t, err)
	eq(t, "id after a delete", d.ID, 3)
}

func testOutboxLifecycle(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := callbackInstance(t, s, "cb")
	quiet, err := s.CreateInstance(ctx, newInstance(t, "closeio", "quiet", nil))
	check(t, err)
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"), webhookEvent(in.ID, "v2", "2"))
	mustAppend(t, s, webhookEvent(quiet.ID, "q1", "1")) // no callbacks: no notification
	mustAppend(t, s, webhookEvent(in.ID, "v3", "3"))
	mustAppend(t, s, webhookEvent(in.ID, "v4", "4"))

	pend, err := s.PendingInstances(ctx)
	check(t, err)
	eq(t, "PendingInstances", fmt.Sprint(pend), fmt.Sprint([]int64{in.ID}))
	seq, err := s.OutboxSequence(ctx)
	check(t, err)
	eq(t, "OutboxSequence", seq, 3)
	ns, err := s.PendingNotifications(ctx, in.ID, 0, 10)
	check(t, err)
	eq(t, "pending notifications", fmt.Sprint(ids(ns)), fmt.Sprint(fmtIDs(1, 2, 3)))
	n1 := ns[0]
	if len(n1.EventIDs) != 2 || n1.EventIDs[0] != "1" || n1.EventIDs[1] != "2" || len(n1.Body) == 0 || n1.WebhookID == "" ||
		n1.State != model.StatePending || !n1.NextAttempt.Equal(c.Now()) || !n1.CreatedAt.Equal(c.Now()) {
		t.Fatalf("first notification = %+v", n1)
	}
	ns, err = s.PendingNotifications(ctx, in.ID, 1, 1)
	check(t, err)
	eq(t, "pending after 1, limit 1", fmt.Sprint(ids(ns)), fmt.Sprint(fmtIDs(2)))
	p, d, err := s.NotificationCounts(ctx)
	check(t, err)
	eq(t, "pending, dead", fmt.Sprint(p, d), "3 0")
	bySeq, err := s.NotificationsBySeq(ctx, []uint64{3, 99, 1}, 0)
	check(t, err)
	if len(bySeq) != 3 || bySeq[0].ID != "3" || bySeq[1].ID != "" || bySeq[2].ID != "1" || string(bySeq[2].Body) != string(n1.Body) {
		t.Errorf("NotificationsBySeq(3, 99, 1) = %v", ids(bySeq))
	}
	bySeq, err = s.NotificationsBySeq(ctx, []uint64{1, 2, 3}, len(n1.Body)+1)
	check(t, err)
	if len(bySeq) != 1 || bySeq[0].ID != "1" {
		t.Errorf("NotificationsBySeq within %d bytes = %v, want the first only", len(n1.Body)+1, ids(bySeq))
	}

	// A failed attempt: still pending, failing, due later.
	t1 := c.Now()
	retry := t1.Add(time.Minute)
	check(t, s.RecordAttempts(ctx, []store.AttemptRecord{{
		Attempt: model.Attempt{NotificationID: "1", N: 1, Time: t1, URL: "http://x", Status: 500, Error: "HTTP 500"},
		State:   model.StatePending, NextAttempt: retry,
	}}))
	n, err := s.Notification(ctx, "1")
	check(t, err)
	if n.Attempts != 1 || n.LastStatus != 500 || !n.NextAttempt.Equal(retry) || !n.FailingSince.Equal(t1) || n.State != model.StatePending {
		t.Errorf("after a failed attempt: %+v", n)
	}
	if string(n.Body) != string(n1.Body) || n.WebhookID != n1.WebhookID {
		t.Error("an attempt changed the body or the webhook id")
	}
	due, err := s.PendingSchedule(ctx, in.ID, 0, 10)
	check(t, err)
	if len(due) != 3 || due[0].Seq != 1 || due[0].Attempts != 1 || !due[0].NextAttempt.Equal(retry) || !due[0].FailingSince.Equal(t1) {
		t.Errorf("PendingSchedule = %+v", due)
	}
	failing, _, err := s.Notifications(ctx, store.NotificationFilter{Failing: true}, 10)
	check(t, err)
	eq(t, "failing", fmt.Sprint(ids(failing)), fmt.Sprint(fmtIDs(1)))

	// Delivered, then dead.
	c.Advance(time.Minute)
	check(t, s.RecordAttempts(ctx, []store.AttemptRecord{
		{Attempt: model.Attempt{NotificationID: "1", N: 2, Time: c.Now(), Status: 200}, State: model.StateDelivered},
		{Attempt: model.Attempt{NotificationID: "2", N: 1, Time: c.Now(), Status: 400, Error: "HTTP 400"}, State: model.StateDead, Reason: "held too long"},
		{Attempt: model.Attempt{NotificationID: "999", N: 1, Time: c.Now()}, State: model.StateDelivered}, // gone: skipped
	}))
	n, err = s.Notification(ctx, "1")
	check(t, err)
	if n.State != model.StateDelivered || !n.DeliveredAt.Equal(c.Now()) || !n.FailingSince.IsZero() || n.Attempts != 2 {
		t.Errorf("delivered: %+v", n)
	}
	n, err = s.Notification(ctx, "2")
	check(t, err)
	if n.State != model.StateDead || n.LastError != "held too long" {
		t.Errorf("dead: %+v", n)
	}
	as, err := s.Attempts(ctx, "1")
	check(t, err)
	if len(as) != 2 || as[0].N != 1 || as[0].Status != 500 || as[1].Status != 200 || !as[0].Time.Equal(t1) {
		t.Errorf("Attempts = %+v", as)
	}
	p, d, err = s.NotificationCounts(ctx)
	check(t, err)
	eq(t, "pending, dead after outcomes", fmt.Sprint(p, d), "1 1")
	for _, tc := range []struct {
		f    store.NotificationFilter
		want []string
	}{
		{store.NotificationFilter{}, fmtIDs(3, 2, 1)},
		{store.NotificationFilter{State: model.StateDead}, fmtIDs(2)},
		{store.NotificationFilter{State: model.StateDelivered}, fmtIDs(1)},
		{store.NotificationFilter{InstanceID: quiet.ID}, nil},
		{store.NotificationFilter{Before: 3}, fmtIDs(2, 1)},
	} {
		list, _, err := s.Notifications(ctx, tc.f, 10)
		check(t, err)
		if !slices.Equal(ids(list), tc.want) {
			t.Errorf("Notifications(%+v) = %v, want %v", tc.f, ids(list), tc.want)
		}
	}
	page, next, err := s.Notifications(ctx, store.NotificationFilter{}, 2)
	check(t, err)
	if len(page) != 2 || next != 2 {
		t.Errorf("first page of 2: %v, next %d", ids(page), next)
	}

	// Replays: one, then an instance's dead ones.
	c.Advance(time.Minute)
	n, err = s.Replay(ctx, "1")
	check(t, err)
	if n.State != model.StatePending || n.CycleStart != 2 || n.Tries() != 0 || !n.NextAttempt.Equal(c.Now()) || !n.FailingSince.IsZero() || len(n.Body) == 0 {
		t.Errorf("replayed: %+v", n)
	}
	if _, err := s.Replay(ctx, "999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Replay(999) = %v, want ErrNotFound", err)
	}
	replayed, err := s.ReplayDead(ctx, in.ID, time.Time{})
	check(t, err)
	eq(t, "ReplayDead", fmt.Sprint(replayed), fmt.Sprint(fmtIDs(2)))
	replayed, err = s.ReplayDead(ctx, in.ID, time.Time{})
	check(t, err)
	eq(t, "ReplayDead again", len(replayed), 0)
	p, d, err = s.NotificationCounts(ctx)
	check(t, err)
	eq(t, "pending, dead after replays", fmt.Sprint(p, d), "3 0")

	check(t, s.SetNotificationsOff(ctx, in.ID, "410 Gone"))
	got, err := s.Instance(ctx, in.ID)
	check(t, err)
	eq(t, "NotificationsOff", got.NotificationsOff, "410 Gone")
	res := mustAppend(t, s, webhookEvent(in.ID, "v5", "5"))
	eq(t, "stored with callbacks off", len(res.Stored), 1)
	seq, err = s.OutboxSequence(ctx)
	check(t, err)
	eq(t, "no notification with callbacks off", seq, 3)
	if err := s.SetNotificationsOff(ctx, 99, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetNotificationsOff(99) = %v, want ErrNotFound", err)
	}
}

func testDeleteInstanceAbandonsPending(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := callbackInstance(t, s, "cb")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"))
	check(t, s.AbandonOrphans(ctx, in.ID)) // exists: nothing happens
	p, _, err := s.NotificationCounts(ctx)
	check(t, err)
	eq(t, "pending while the instance exists", p, 1)
	check(t, s.DeleteInstance(ctx, in.ID))
	n, err := s.Notification(ctx, "1")
	check(t, err)
	if n.State != model.StateDead || n.LastError != "instance deleted" {
		t.Errorf("after delete: %s %q", n.State, n.LastError)
	}
	// An attempt that was on the wire is logged but leaves it dead.
	check(t, s.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: model.Attempt{NotificationID: "1", N: 1, Time: c.Now(), Status: 200}, State: model.StateDelivered}}))
	n, _ = s.Notification(ctx, "1")
	eq(t, "state after a late attempt", n.State, model.StateDead)
	as, err := s.Attempts(ctx, "1")
	check(t, err)
	eq(t, "late attempt logged", len(as), 1)
	// Events stay for history.
	e, err := s.Event(ctx, "1")
	check(t, err)
	eq(t, "event of a deleted instance", e.InstanceID, in.ID)
}

func testPollStatus(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := pollingInstance(t, s, "p")
	st, err := s.PollStatus(ctx, in.ID, "contacts")
	check(t, err)
	if st.InstanceID != in.ID || st.Resource != "contacts" || !st.Checkpoint.IsZero() {
		t.Errorf("never polled: %+v", st)
	}
	cp := time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC)
	for _, r := range []string{"opportunities", "contacts", "accounts", "no-such-resource"} {
		check(t, s.SetPollStatus(ctx, model.PollStatus{InstanceID: in.ID, Resource: r, Checkpoint: cp, Records: 3, LastError: ""}))
	}
	check(t, s.SetPollStatus(ctx, model.PollStatus{InstanceID: 99, Resource: "contacts"})) // no instance: ignored
	st, err = s.PollStatus(ctx, in.ID, "contacts")
	check(t, err)
	if !st.Checkpoint.Equal(cp) || st.Records != 3 {
		t.Errorf("PollStatus = %+v", st)
	}
	list, err := s.PollStatuses(ctx, in.ID)
	check(t, err)
	var rs []string
	for _, st := range list {
		rs = append(rs, st.Resource)
	}
	eq(t, "PollStatuses", fmt.Sprint(rs), "[accounts contacts opportunities]")
	list, err = s.PollStatuses(ctx, 99)
	check(t, err)
	eq(t, "statuses of no instance", len(list), 0)

	// Left-overs of an earlier build are forgotten.
	check(t, s.PutPollStatuses(ctx, []model.PollStatus{{InstanceID: in.ID, Resource: "gone"}, {InstanceID: 77, Resource: "contacts"}}))
	n, err := s.ForgetStalePollStatuses(ctx)
	check(t, err)
	eq(t, "ForgetStalePollStatuses", n, 2)

	check(t, s.DeleteInstance(ctx, in.ID))
	list, err = s.PollStatuses(ctx, in.ID)
	check(t, err)
	eq(t, "statuses after delete", len(list), 0)
}

func testRejected(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	for i := range 3 {
		check(t, s.AddRejected(ctx, store.Rejected{Time: c.Now(), Status: 400 + i, Reason: fmt.Sprint("r", i), Path: "/events/x"}))
	}
	n, err := s.RejectedCount(ctx)
	check(t, err)
	eq(t, "RejectedCount", n, 3)
	page, next, err := s.RejectedList(ctx, 0, 2)
	check(t, err)
	if len(page) != 2 || page[0].Status != 402 || page[1].Status != 401 || next == 0 {
		t.Fatalf("first page: %+v next %d", page, next)
	}
	page, next, err = s.RejectedList(ctx, next, 2)
	check(t, err)
	if len(page) != 1 || page[0].Status != 400 || next != 0 || page[0].ID == "" {
		t.Errorf("second page: %+v next %d", page, next)
	}
}

func testPrune(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := callbackInstance(t, s, "cb")
	old := mustAppend(t, s, webhookEvent(in.ID, "o1", "1"), webhookEvent(in.ID, "o2", "2"))
	mustAppend(t, s, webhookEvent(in.ID, "o3", "3")) // notification 2, stays pending
	check(t, s.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: model.Attempt{NotificationID: "1", N: 1, Time: c.Now(), Status: 200}, State: model.StateDelivered}}))
	c.Advance(time.Hour)
	cutoff := c.Now()
	c.Advance(time.Hour)
	mustAppend(t, s, webhookEvent(in.ID, "n1", "4"))
	c.Advance(store.DedupeWindow - time.Hour + time.Second) // the first three keys expired
	res, err := s.Prune(ctx, cutoff)
	check(t, err)
	if res.Events != 3 || res.Notifications != 1 || res.DedupeKeys != 3 {
		t.Errorf("Prune = %+v, want 3 events, 1 notification, 3 dedupe keys", res)
	}
	if _, err := s.Event(ctx, old.Stored[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pruned event: %v", err)
	}
	if _, err := s.Notification(ctx, "1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pruned notification: %v", err)
	}
	as, err := s.Attempts(ctx, "1")
	check(t, err)
	eq(t, "attempts of a pruned notification", len(as), 0)
	if _, err := s.Notification(ctx, "2"); err != nil {
		t.Errorf("pending notification pruned: %v", err)
	}
	n, err := s.EventCount(ctx)
	check(t, err)
	eq(t, "events left", n, 1)
	// An expired key no longer dedupes; a live one still does.
	res2 := mustAppend(t, s, webhookEvent(in.ID, "o1", "1"), webhookEvent(in.ID, "n1", "4"))
	if len(res2.Stored) != 1 || res2.Duplicates != 1 {
		t.Errorf("after pruning keys: stored %d, duplicates %d; want 1 and 1", len(res2.Stored), res2.Duplicates)
	}
}

func testSettings(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	_, ok, err := s.Setting(ctx, store.SettingPublicURL)
	check(t, err)
	if ok {
		t.Error("a setting exists in a fresh store")
	}
	check(t, s.SetSetting(ctx, store.SettingPublicURL, "https://hooks.example.com"))
	check(t, s.SetSetting(ctx, store.SettingListen, ""))
	v, ok, err := s.Setting(ctx, store.SettingPublicURL)
	check(t, err)
	if !ok || v != "https://hooks.example.com" {
		t.Errorf("Setting = %q %v", v, ok)
	}
	v, ok, err = s.Setting(ctx, store.SettingListen)
	check(t, err)
	if !ok || v != "" {
		t.Errorf("empty setting = %q %v, want stored and empty", v, ok)
	}
	sec, err := s.APISecrets(ctx)
	check(t, err)
	if sec.User == "" || sec.Organization == "" || sec.User == sec.Organization {
		t.Fatalf("APISecrets = %+v", sec)
	}
	again, err := s.APISecrets(ctx)
	check(t, err)
	if again != sec {
		t.Error("APISecrets changed between calls")
	}
	u, _, err := s.Setting(ctx, store.SettingUserSecret)
	check(t, err)
	eq(t, "stored user secret", u, sec.User)
}

func testSubscribe(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	sub := s.Subscribe()
	defer sub.Close()
	mustAppend(t, s, webhookEvent(1, "", "a"))
	within(t, sub.C, 5*time.Second, "a signal after AppendEvents")
	v := s.InstancesVersion()
	in, err := s.CreateInstance(ctx, newInstance(t, "closeio", "a", nil))
	check(t, err)
	within(t, sub.C, 5*time.Second, "a signal after CreateInstance")
	if s.InstancesVersion() == v {
		t.Error("InstancesVersion did not move")
	}
	check(t, s.DeleteInstance(ctx, in.ID))
	within(t, sub.C, 5*time.Second, "a signal after DeleteInstance")

	// A reader following signals sees every event once.
	const n = 50
	appended := make(chan struct{})
	defer func() { <-appended }()
	go func() {
		defer close(appended)
		for i := 0; i < n; i++ {
			if _, err := s.AppendEvents(ctx, []model.Event{webhookEvent(1, "", "x")}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	after, seen := uint64(1), 0
	for seen < n {
		within(t, sub.C, 10*time.Second, fmt.Sprintf("a signal (seen %d of %d)", seen, n))
		batch, err := s.EventsAfter(ctx, after, 1000)
		check(t, err)
		for _, e := range batch {
			if e.Seq() != after+1 {
				t.Fatalf("event %d after %d: a gap or a repeat", e.Seq(), after)
			}
			after = e.Seq()
			seen++
		}
	}
	check(t, s.Probe(ctx))
	within(t, sub.C, 5*time.Second, "a signal after Probe")
}

func testOverview(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := callbackInstance(t, s, "cb")
	mustAppend(t, s, webhookEvent(in.ID, "v1", "1"))
	mustAppend(t, s, webhookEvent(in.ID, "v2", "2"))
	mustAppend(t, s, webhookEvent(in.ID, "v3", "3"))
	check(t, s.RecordAttempts(ctx, []store.AttemptRecord{
		{Attempt: model.Attempt{NotificationID: "1", N: 1, Time: c.Now(), Status: 500}, State: model.StatePending, NextAttempt: c.Now().Add(time.Minute)},
		{Attempt: model.Attempt{NotificationID: "3", N: 1, Time: c.Now(), Status: 400}, State: model.StateDead},
	}))
	check(t, s.AddRejected(ctx, store.Rejected{Time: c.Now(), Status: 404}))
	o, err := s.Overview(ctx)
	check(t, err)
	if o.Instances != 1 || o.LastEventID != 3 || o.Pending != 1 || o.Failing != 1 || o.Dead != 1 || o.Rejected != 1 {
		t.Errorf("Overview = %+v", o)
	}
	if len(o.Queues) != 1 || !o.Queues[0].Held || o.Queues[0].ElementKey != "pipedrive" || !o.Queues[0].OldestPending.Equal(c.Now()) {
		t.Errorf("Queues = %+v", o.Queues)
	}
	if o.DBBytes <= 0 {
		t.Errorf("DBBytes = %d", o.DBBytes)
	}
}

func testCopy(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	in := newInstance(t, "closeio", "copied", nil)
	in.ID, in.Token = 7, "tok-7"
	events := []model.Event{webhookEvent(7, "a", "1"), pollEvent(7, "deals", "2", c.Now().Add(-time.Hour))}
	events[0].ID, events[0].ReceivedAt = "40", c.Now().Add(-time.Minute)
	events[1].ID, events[1].ReceivedAt = "41", c.Now()
	note := model.Notification{ID: "12", InstanceID: 7, WebhookID: "msg_x", EventIDs: []string{"40"}, ObjectType: "contacts",
		Source: model.SourceWebhook, CreatedAt: c.Now(), State: model.StateDead, Attempts: 3, LastStatus: 500, LastError: "HTTP 500",
		Body: []byte(`{"id":"12"}`)}
	attempts := []model.Attempt{{NotificationID: "12", N: 1, Time: c.Now(), Status: 500}, {NotificationID: "12", N: 2, Time: c.Now(), Status: 500}}
	dedupe := []store.DedupeRecord{{Hash: [16]byte{1, 2, 3}, Expires: c.Now().Add(time.Hour)}, {Key: events[1].DedupeKey(), Expires: c.Now().Add(time.Hour)}}
	put := func() {
		check(t, s.PutInstances(ctx, []model.Instance{in}))
		check(t, s.PutEvents(ctx, events))
		check(t, s.PutDedupeKeys(ctx, dedupe))
		check(t, s.PutNotifications(ctx, []model.Notification{note}))
		check(t, s.PutAttempts(ctx, attempts))
		check(t, s.PutPollStatuses(ctx, []model.PollStatus{{InstanceID: 7, Resource: "contacts", Checkpoint: c.Now()}}))
		check(t, s.PutSettings(ctx, map[string]string{store.SettingUserSecret: "u", store.SettingOrgSecret: "o", store.SettingPublicURL: "https://x"}))
		check(t, s.PutRejected(ctx, []store.Rejected{{ID: "5", Time: c.Now(), Status: 401}}))
	}
	put()
	put() // a re-run after an interruption changes nothing
	counts, err := s.TableCounts(ctx)
	check(t, err)
	want := map[string]int{
		store.TableInstances: 1, store.TableEvents: 2, store.TableDedupeKeys: 2, store.TableNotifications: 1,
		store.TableAttempts: 2, store.TablePollState: 1, store.TableSettings: 3, store.TableRejected: 1,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("TableCounts = %v, want %v", counts, want)
	}
	got, err := s.Instance(ctx, 7)
	check(t, err)
	if got.Token != "tok-7" || got.Name != "copied" {
		t.Errorf("copied instance = %+v", got)
	}
	e, err := s.Event(ctx, "41")
	check(t, err)
	if e.ObjectID != "2" || !e.Date.Equal(events[1].Date) || !e.ReceivedAt.Equal(c.Now()) {
		t.Errorf("copied event = %+v", e)
	}
	n, err := s.Notification(ctx, "12")
	check(t, err)
	if n.State != model.StateDead || n.Attempts != 3 || string(n.Body) != `{"id":"12"}` || n.WebhookID != "msg_x" {
		t.Errorf("copied notification = %+v", n)
	}
	sec, err := s.APISecrets(ctx)
	check(t, err)
	eq(t, "copied API secrets", sec, store.Secrets{User: "u", Organization: "o"})
	// New records number after the copied ones; copied keys dedupe.
	next, err := s.CreateInstance(ctx, newInstance(t, "closeio", "next", nil))
	check(t, err)
	eq(t, "instance id after a copy", next.ID, 8)
	res := mustAppend(t, s, webhookEvent(7, "new", "9"), pollEvent(7, "deals", "2", c.Now().Add(-time.Hour)))
	if len(res.Stored) != 1 || res.Stored[0].ID != "42" || res.Duplicates != 1 {
		t.Errorf("append after a copy: %v, %d duplicates; want id 42 and the copied polled key a duplicate", ids(res.Stored), res.Duplicates)
	}
	rj, _, err := s.RejectedList(ctx, 0, 10)
	check(t, err)
	if len(rj) != 1 || rj[0].ID != "5" {
		t.Errorf("copied rejected = %+v", rj)
	}
}

// testSearchEvents pages a payload search one match at a time, as the
// console does, and finds every match newest first, on one instance or all,
// with metadata filters, and stops on a cancelled context.
func testSearchEvents(t *testing.T, s Backend, c *Clock) {
	ctx := t.Context()
	var evs []model.Event
	for i := range 30 {
		e := webhookEvent(int64(1+i%2), "v"+strconv.Itoa(i), strconv.Itoa(i))
		if i%7 == 0 {
			e.Raw = json.RawMessage(`{"id":"` + strconv.Itoa(i) + `","name":"Barbara JONES"}`)
		}
		evs = append(evs, e)
	}
	stored := mustAppend(t, s, evs...).Stored
	all := func(f store.EventFilter) []string {
		t.Helper()
		var got []string
		cursor := uint64(0)
		for range 100 {
			page, err := s.SearchEvents(ctx, f, cursor, 1)
			check(t, err)
			for _, e := range page.Events {
				if f.Raw != "" && !strings.Contains(string(e.Raw), "Barbara") {
					t.Errorf("match %s has no payload: %q", e.ID, e.Raw)
				}
				got = append(got, e.ObjectID)
			}
			if page.Done {
				return got
			}
			if page.Next == 0 || (cursor != 0 && page.Next >= cursor) {
				t.Fatalf("search does not move on: cursor %d, next %d", cursor, page.Next)
			}
			cursor = page.Next
		}
		t.Fatal("search never ends")
		return nil
	}
	eq(t, "raw matches", fmt.Sprint(all(store.EventFilter{Raw: "barbara jones"})), "[28 21 14 7 0]")
	eq(t, "raw on instance 2", fmt.Sprint(all(store.EventFilter{Raw: "barbara", InstanceID: 2})), "[21 7]")
	eq(t, "object id", fmt.Sprint(all(store.EventFilter{ObjectID: "13"})), "[13]")
	eq(t, "no match", fmt.Sprint(all(store.EventFilter{Raw: "nobody"})), "[]")
	eq(t, "before", fmt.Sprint(all(store.EventFilter{Raw: "barbara", Before: stored[14].Seq()})), "[7 0]")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SearchEvents(cancelled, store.EventFilter{Raw: "x"}, 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("search on a cancelled context: %v, want context.Canceled", err)
	}
	_ = c
}
