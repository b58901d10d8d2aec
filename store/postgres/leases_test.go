package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// clock is a settable clock shared by stores standing for replicas.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestPollLeases(t *testing.T) {
	c := newClock()
	url := pgtest.URL(t)
	a := openTest(t, url, postgres.WithClock(c.now))
	b := openTest(t, url, postgres.WithClock(c.now))
	ctx := t.Context()
	for _, r := range []string{"contacts", "deals"} {
		if err := a.Schedule(ctx, postgres.KindPoll, 1, r, c.now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Schedule(ctx, postgres.KindPoll, 1, "later", c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	la, err := a.Claim(ctx, postgres.KindPoll, "a", 10*time.Second, 1)
	if err != nil || len(la) != 1 {
		t.Fatalf("a claims %v (%v)", la, err)
	}
	lb, err := b.Claim(ctx, postgres.KindPoll, "b", 10*time.Second, 10)
	if err != nil || len(lb) != 1 || lb[0].Resource == la[0].Resource {
		t.Fatalf("b claims %v (%v) while a holds %v", lb, err, la)
	}
	if more, _ := b.Claim(ctx, postgres.KindPoll, "b", 10*time.Second, 10); len(more) != 0 {
		t.Fatalf("claimed again while leased, or before due: %v", more)
	}

	// a renews; b's lease runs out and a takes it over.
	c.advance(8 * time.Second)
	if la[0], err = a.Renew(ctx, la[0], 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c.advance(3 * time.Second)
	taken, err := a.Claim(ctx, postgres.KindPoll, "a", 10*time.Second, 10)
	if err != nil || len(taken) != 1 || taken[0].Resource != lb[0].Resource || taken[0].Token <= lb[0].Token {
		t.Fatalf("takeover of b's expired lease: %v (%v)", taken, err)
	}
	// b's writes fenced by its old lease fail.
	if _, err := b.Renew(ctx, lb[0], 10*time.Second); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("Renew of a taken lease = %v, want ErrLeaseLost", err)
	}
	st := model.PollStatus{InstanceID: 1, Resource: lb[0].Resource, Checkpoint: c.now()}
	if _, err := b.CommitPoll(ctx, lb[0], []model.Event{webhookEvent(1, "stale", "1")}, st); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("CommitPoll with a taken lease = %v, want ErrLeaseLost", err)
	}
	if err := b.Release(ctx, lb[0], c.now()); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("Release of a taken lease = %v, want ErrLeaseLost", err)
	}
	if n, _ := a.EventCount(ctx); n != 0 {
		t.Errorf("a fenced write stored %d events", n)
	}
	// The holder's write goes through, events and checkpoint together.
	res, err := a.CommitPoll(ctx, taken[0], []model.Event{webhookEvent(1, "fresh", "1")}, st)
	if err != nil || len(res.Stored) != 1 {
		t.Fatalf("CommitPoll by the holder: %v (%v)", res, err)
	}
	if err := a.Release(ctx, taken[0], c.now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Claim(ctx, postgres.KindPoll, "b", 10*time.Second, 10); len(got) != 0 {
		t.Errorf("released work claimed before its next due time: %v", got)
	}
	c.advance(time.Minute)
	// Due again: the released unit, and a's other one, whose lease a
	// stopped renewing.
	if got, _ := b.Claim(ctx, postgres.KindPoll, "b", 10*time.Second, 10); len(got) != 2 {
		t.Errorf("released and expired work not claimed when due: %v", got)
	}
	// An expired lease fences writes even before anyone takes it over.
	c.advance(time.Hour)
	if err := a.Schedule(ctx, postgres.KindPoll, 1, "later", c.now()); err != nil {
		t.Fatal(err)
	}
	l, _ := a.Claim(ctx, postgres.KindPoll, "a", time.Second, 1)
	c.advance(2 * time.Second)
	if _, err := a.CommitPoll(ctx, l[0], nil, model.PollStatus{InstanceID: 1, Resource: "later"}); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("CommitPoll with an expired lease = %v, want ErrLeaseLost", err)
	}
}

// Many replicas claiming at once never hold one unit twice.
func TestClaimsNeverOverlap(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	stores := []*postgres.Store{openTest(t, url), openTest(t, url), openTest(t, url)}
	const units = 60
	for i := range units {
		if err := stores[0].Schedule(ctx, postgres.KindPoll, int64(i), "r", time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu     sync.Mutex
		owners = map[int64]string{}
		wg     sync.WaitGroup
	)
	for i, s := range stores {
		wg.Go(func() {
			for {
				ls, err := s.Claim(ctx, postgres.KindPoll, fmt.Sprint("r", i), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ls) == 0 {
					return
				}
				mu.Lock()
				for _, l := range ls {
					if prev, ok := owners[l.InstanceID]; ok {
						t.Errorf("unit %d claimed by %s and %s", l.InstanceID, prev, l.Owner)
					}
					owners[l.InstanceID] = l.Owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owners) != units {
		t.Errorf("%d of %d units claimed", len(owners), units)
	}
}

func callbackInstance(t *testing.T, s *postgres.Store, name string, config map[string]string) model.Instance {
	t.Helper()
	n := name
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &n,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "webhook"
	in.Configuration[model.KeyCallbackURL] = "http://127.0.0.1:1/cb"
	for k, v := range config {
		in.Configuration[k] = v
	}
	in, err = s.CreateInstance(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestTryOnceRunsOneAtATime(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openTest(t, url), openTest(t, url)
	ctx := t.Context()
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ran, err := a.TryOnce(ctx, "retention", func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		if err == nil && !ran {
			err = errors.New("a did not run")
		}
		done <- err
	}()
	<-inside
	ran, err := b.TryOnce(ctx, "retention", func(context.Context) error { return nil })
	if err != nil || ran {
		t.Fatalf("b ran %v (%v) while a held the lock", ran, err)
	}
	ran, err = b.TryOnce(ctx, "other", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("other work did not run: %v (%v)", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ran, err = b.TryOnce(ctx, "retention", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("b after a finished: ran %v (%v)", ran, err)
	}
}

// Lanes are divided among the replicas alive: each claims its share of
// the lanes with notifications pending, a dead one's share passes to the
// others once its leases and heartbeat run out, and a finished lane comes
// back only while something is pending.
func TestClaimLanesDividesByReplicasAlive(t *testing.T) {
	c := newClock()
	url := pgtest.URL(t)
	ctx := t.Context()
	const lease = 5 * time.Second
	names := []string{"a", "b", "c"}
	var stores []*postgres.Store
	for range names {
		stores = append(stores, openTest(t, url, postgres.WithClock(c.now)))
	}
	for i := range 6 {
		in := callbackInstance(t, stores[0], fmt.Sprint("i", i), nil)
		if _, err := stores[0].AppendEvents(ctx, []model.Event{webhookEvent(in.ID, fmt.Sprint("v", i), fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	idle := callbackInstance(t, stores[0], "idle", nil) // nothing pending: no lane
	for i, s := range stores {
		if err := s.Heartbeat(ctx, names[i], lease); err != nil {
			t.Fatal(err)
		}
	}
	held := map[int64]string{}
	claim := func(i int) []postgres.Lease {
		t.Helper()
		got, _, err := stores[i].ClaimLanes(ctx, names[i], lease, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range got {
			if l.InstanceID == idle.ID {
				t.Errorf("%s claimed the lane of an instance with nothing pending", names[i])
			}
			if prev, ok := held[l.InstanceID]; ok && prev != names[i] {
				t.Errorf("lane of %d claimed by %s while %s holds it", l.InstanceID, names[i], prev)
			}
			held[l.InstanceID] = names[i]
		}
		return got
	}
	var byA []postgres.Lease
	for i := range stores {
		got := claim(i)
		if len(got) != 2 {
			t.Fatalf("%s claimed %d of 6 lanes among 3 replicas, want 2", names[i], len(got))
		}
		if i == 0 {
			byA = got
		}
	}
	if got := claim(0); len(got) != 0 {
		t.Errorf("a claimed %d more lanes beyond its share", len(got))
	}

	// c dies: a and b renew, c's leases and heartbeat run out.
	c.advance(lease - time.Second)
	for i := range 2 {
		if err := stores[i].Heartbeat(ctx, names[i], lease); err != nil {
			t.Fatal(err)
		}
		for id, owner := range held {
			if owner == names[i] {
				if _, err := stores[i].Renew(ctx, postgres.Lease{Kind: postgres.KindLane, InstanceID: id, Owner: owner, Token: 1}, lease); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	c.advance(2 * time.Second)
	for id, owner := range held {
		if owner == "c" {
			delete(held, id)
		}
	}
	if n := len(claim(0)) + len(claim(1)); n != 2 {
		t.Errorf("a and b took over %d of the dead replica's 2 lanes", n)
	}

	// a is done with a lane: it goes, and is claimed again only once
	// something is pending for it again.
	if err := stores[0].Finish(ctx, byA[0]); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].Finish(ctx, byA[0]); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("finishing a finished lane = %v, want ErrLeaseLost", err)
	}
	delete(held, byA[0].InstanceID)
	if got := claim(1); len(got) != 0 {
		t.Errorf("b, holding its share of 3, claimed %v", got)
	}
	// Its notification is still pending: the lane is back, for a.
	if got := claim(0); len(got) != 1 || got[0].InstanceID != byA[0].InstanceID {
		t.Errorf("after a finished lane %d with work pending, a claimed %v", byA[0].InstanceID, got)
	}
}

// An attempt's outcome made under a lane lease that another replica has
// claimed since is dropped: the stalled replica does not overwrite what
// the new holder records. One whose lease merely ran out is kept.
func TestOutcomesUnderALostLaneLeaseAreDropped(t *testing.T) {
	c := newClock()
	url := pgtest.URL(t)
	ctx := t.Context()
	a, b := openTest(t, url, postgres.WithClock(c.now)), openTest(t, url, postgres.WithClock(c.now))
	in := callbackInstance(t, a, "ordered", map[string]string{model.KeyOrdered: "true"})
	for i := range 2 { // two calls: two notifications
		if _, err := a.AppendEvents(ctx, []model.Event{webhookEvent(in.ID, fmt.Sprint("v", i), fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	la, _, err := a.ClaimLanes(ctx, "a", 5*time.Second, 10)
	if err != nil || len(la) != 1 {
		t.Fatalf("a claims %v (%v)", la, err)
	}
	outcome := func(id string, st model.NotificationState, l postgres.Lease) store.AttemptRecord {
		return store.AttemptRecord{Attempt: model.Attempt{NotificationID: id, N: 1, Time: c.now(), Status: 200}, State: st, Lease: &l}
	}
	// Ran out, nobody else claimed it: a's outcome stands.
	c.advance(6 * time.Second)
	if err := a.RecordAttempts(ctx, []store.AttemptRecord{outcome("1", model.StateDelivered, la[0])}); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Notification(ctx, "1"); n.State != model.StateDelivered {
		t.Errorf("outcome under an expired lease nobody took: notification 1 is %s, want delivered", n.State)
	}
	lb, _, err := b.ClaimLanes(ctx, "b", 5*time.Second, 10)
	if err != nil || len(lb) != 1 {
		t.Fatalf("b takes the lane over: %v (%v)", lb, err)
	}
	if err := b.RecordAttempts(ctx, []store.AttemptRecord{outcome("2", model.StateDelivered, lb[0])}); err != nil {
		t.Fatal(err)
	}
	// a, stalled, reports notification 2 failed and dead: dropped.
	stale := outcome("2", model.StateDead, la[0])
	stale.Attempt.Status = 500
	if err := a.RecordAttempts(ctx, []store.AttemptRecord{stale}); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Notification(ctx, "2"); n.State != model.StateDelivered {
		t.Errorf("stale outcome under a lost lease was stored: notification 2 is %s, want delivered", n.State)
	}
}
