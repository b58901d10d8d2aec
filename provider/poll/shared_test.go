package poll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sharedLease is the replicas' lease in these tests. Leases run on the
// fake clock (the stores are opened with it), so they only run out when
// a test moves the clock on.
const sharedLease = 2 * time.Second

// replica is one scheduler on its own handle of a shared database.
type replica struct {
	name  string
	st    *postgres.Store
	sched *Scheduler
	// dead makes every lease call fail, as for a process that is gone;
	// stalled makes renewals seem to succeed while they renew nothing, as
	// for one that stalled past its lease (paused, its clock wrong) and
	// does not know it.
	dead, stalled atomic.Bool
	// claimed counts the polls it claimed.
	claimed atomic.Int64
}

// mortal is a replica's Leases, failing once the replica is dead.
type mortal struct {
	*postgres.Store
	r *replica
}

var errDead = errors.New("replica is dead")

func (m mortal) Renew(ctx context.Context, l store.Lease, d time.Duration) (store.Lease, error) {
	if m.r.stalled.Load() {
		return l, nil
	}
	if m.r.dead.Load() {
		return l, errDead
	}
	return m.Store.Renew(ctx, l, d)
}

func (m mortal) Claim(ctx context.Context, kind, owner string, lease time.Duration, limit int) ([]store.Lease, error) {
	if m.r.dead.Load() {
		return nil, errDead
	}
	got, err := m.Store.Claim(ctx, kind, owner, lease, limit)
	m.r.claimed.Add(int64(len(got)))
	return got, err
}

func (m mortal) Release(ctx context.Context, l store.Lease, next time.Time) error {
	if m.r.dead.Load() {
		return errDead
	}
	return m.Store.Release(ctx, l, next)
}

func startReplicas(t *testing.T, url string, clock *fakepipedrive.FakeClock, n int) []*replica {
	t.Helper()
	var out []*replica
	for i := range n {
		st, err := postgres.Open(t.Context(), url, postgres.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		r := &replica{name: fmt.Sprint("r", i), st: st}
		p := New(st, Options{Now: clock.Now, Sleep: func(context.Context, time.Duration) error { return nil }})
		r.sched = StartSchedulerWith(st, p, SchedulerOptions{Shared: mortal{st, r}, Owner: r.name, Lease: sharedLease, Rand: func() float64 { return 0.5 }})
		t.Cleanup(func() {
			r.sched.Stop()
			st.Close()
		})
		out = append(out, r)
	}
	return out
}

// scheduled waits until n polls are scheduled in the database: the
// replicas have read the instances, so moving the clock on makes them due.
func scheduled(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d polls scheduled", n), func() bool {
		var got int
		err := pool.QueryRow(t.Context(), "SELECT count(*) FROM work WHERE kind = 'poll'").Scan(&got)
		return err == nil && got == n
	})
}

// listRequests counts the vendor's list requests of persons.
func listRequests(v *vendor) int {
	n := 0
	for _, r := range v.fake.Requests() {
		if strings.HasSuffix(r.URL.Path, "/persons") {
			n++
		}
	}
	return n
}

// Three replicas poll six instances for four intervals: each resource is
// fetched by exactly one replica per interval, and the polls are spread
// over the replicas.
func TestSharedPollingFetchesEachResourceOncePerInterval(t *testing.T) {
	url := pgtest.URL(t)
	clock := fakepipedrive.NewClock(schedT0)
	seed, err := postgres.Open(t.Context(), url, postgres.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	var vendors []*vendor
	var ids []int64
	for range 6 {
		v := newVendor(t, clock)
		v.fake.Generate(fakepipedrive.KindPerson, 20)
		go func() {
			for range v.arrived { // the request log is what is counted
			}
		}()
		vendors = append(vendors, v)
		ids = append(ids, newPollingInstance(t, seed, v, true, clock.Now()).ID)
	}
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	reps := startReplicas(t, url, clock, 3)
	lastStart := map[int64]time.Time{}
	scheduled(t, pool, len(ids))
	clock.Advance(5 * time.Second) // past the first polls' jitter
	for round := 1; round <= 4; round++ {
		// Every resource polled once more, and its lease given back.
		waitFor(t, fmt.Sprintf("round %d's polls", round), func() bool {
			for _, id := range ids {
				st, err := seed.PollStatus(t.Context(), id, "contacts")
				if err != nil || !st.LastEnd.After(lastStart[id]) || st.NextDue.IsZero() || !st.NextDue.After(clock.Now()) {
					return false
				}
			}
			var held int
			err := pool.QueryRow(t.Context(), "SELECT count(*) FROM work WHERE kind = 'poll' AND owner IS NOT NULL").Scan(&held)
			return err == nil && held == 0
		})
		for i, id := range ids {
			st, _ := seed.PollStatus(t.Context(), id, "contacts")
			lastStart[id] = st.LastStart
			if got := listRequests(vendors[i]); got != round {
				t.Errorf("round %d: instance %d's contacts fetched %d times in all, want %d (one per interval)", round, id, got, round)
			}
		}
		clock.Advance(time.Minute + 5*time.Second)
	}
	var per []int64
	for _, r := range reps {
		per = append(per, r.claimed.Load())
	}
	t.Logf("polls claimed per replica over 4 intervals of 6 resources: %v", per)
}

// hungPoll is a shared database whose replicas' first poll of one
// instance hangs at the vendor until hold is closed; holder is the replica
// polling it.
type hungPoll struct {
	clock  *fakepipedrive.FakeClock
	seed   *postgres.Store
	v      *vendor
	in     model.Instance
	hold   chan struct{}
	reps   []*replica
	holder *replica
}

func startHungPoll(t *testing.T, replicas int) *hungPoll {
	t.Helper()
	url := pgtest.URL(t)
	h := &hungPoll{clock: fakepipedrive.NewClock(schedT0), hold: make(chan struct{})}
	seed, err := postgres.Open(t.Context(), url, postgres.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seed.Close() })
	h.seed = seed
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	h.v = newVendor(t, h.clock)
	h.v.fake.Generate(fakepipedrive.KindPerson, 20)
	h.v.mu.Lock()
	h.v.hold = h.hold
	h.v.mu.Unlock()
	h.in = newPollingInstance(t, seed, h.v, true, h.clock.Now())
	h.reps = startReplicas(t, url, h.clock, replicas)
	scheduled(t, pool, 1)
	h.clock.Advance(5 * time.Second)
	h.v.expect(t, "the first poll")
	h.v.mu.Lock()
	h.v.hold = nil // later requests go through
	h.v.mu.Unlock()
	var owner string
	if err := pool.QueryRow(t.Context(), "SELECT owner FROM work WHERE kind = 'poll' AND instance_id = $1", h.in.ID).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	for _, r := range h.reps {
		if r.name == owner {
			h.holder = r
		}
	}
	if h.holder == nil {
		t.Fatalf("the poll is held by %q, no replica of this test", owner)
	}
	return h
}

// takenOver moves the clock past the holder's lease and waits until
// another replica's poll is stored; it returns when that poll started.
func (h *hungPoll) takenOver(t *testing.T) time.Time {
	t.Helper()
	h.clock.Advance(sharedLease + time.Second)
	at := h.clock.Now()
	h.v.expect(t, "the poll taken over")
	waitFor(t, "the poll taken over to be stored", func() bool {
		st, err := h.seed.PollStatus(t.Context(), h.in.ID, "contacts")
		return err == nil && !st.LastEnd.IsZero() && !st.NextDue.IsZero()
	})
	return at
}

// A replica dies in the middle of a poll: once its lease has run out
// another replica polls the resource, and the dead one's poll, should it
// still finish, stores nothing.
func TestSharedPollingTakesOverADeadReplicasPoll(t *testing.T) {
	h := startHungPoll(t, 3)
	h.holder.dead.Store(true)
	tookOver := h.takenOver(t)
	close(h.hold) // the dead replica's request is answered at last
	h.holder.sched.Stop()
	st, err := h.seed.PollStatus(t.Context(), h.in.ID, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if !st.LastStart.Equal(tookOver) || st.LastError != "" {
		t.Errorf("stored poll started %v (error %q); want the poll of the replica that took over, started %v", st.LastStart, st.LastError, tookOver)
	}
	if got := listRequests(h.v); got != 2 {
		t.Errorf("%d list requests, want 2 (the dead replica's and the one that took over)", got)
	}
	evs, err := h.seed.EventsAfter(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 20 {
		t.Errorf("%d events stored, want 20 (one per record)", len(evs))
	}
}

// A replica stalls in the middle of a poll without noticing (its renewals
// hang): another takes the resource over once the lease has run out, and
// when the stalled poll finishes, its events and status are refused by the
// store (the lease's fencing) rather than stored over the new holder's.
func TestSharedPollingFencesAStalledReplica(t *testing.T) {
	h := startHungPoll(t, 2)
	h.holder.stalled.Store(true)
	h.holder.dead.Store(true) // no claims either
	tookOver := h.takenOver(t)
	// Records changed since: the stalled poll, answered now, sees them
	// too, as a late poll would.
	h.v.fake.Generate(fakepipedrive.KindPerson, 5)
	close(h.hold)
	waitFor(t, "the stalled poll to end", func() bool {
		_, _, running := h.holder.sched.dueOf(h.in.ID, "contacts")
		return !running
	})
	st, err := h.seed.PollStatus(t.Context(), h.in.ID, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if !st.LastStart.Equal(tookOver) {
		t.Errorf("stored poll started %v; want the poll of the replica that took over, started %v (the stalled one's was stored over it)", st.LastStart, tookOver)
	}
	evs, err := h.seed.EventsAfter(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 20 {
		t.Errorf("%d events stored, want the 20 of the poll that took over (the stalled poll's were refused)", len(evs))
	}
}

// "Poll now" from a process without a scheduler (the command line) on a
// shared store waits for no one: while a replica polls the resource it is
// refused as busy, and once the replica is done it runs under a lease of
// its own.
func TestPollNowSharedLeasesTheResource(t *testing.T) {
	h := startHungPoll(t, 1)
	p := New(h.seed, Options{Now: h.clock.Now, Sleep: func(context.Context, time.Duration) error { return nil }})
	if _, _, err := PollNowShared(t.Context(), h.seed, h.seed, p, "cli", h.in.ID, ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("poll now while a replica polls: %v, want ErrBusy", err)
	}
	close(h.hold)
	waitFor(t, "the replica's poll to end", func() bool {
		_, _, running := h.holder.sched.dueOf(h.in.ID, "contacts")
		return !running
	})
	sts, _, err := PollNowShared(t.Context(), h.seed, h.seed, p, "cli", h.in.ID, "")
	if err != nil || len(sts) != 1 || sts[0].LastError != "" {
		t.Fatalf("poll now once the replica is done: %v, %v", sts, err)
	}
	if got := listRequests(h.v); got != 2 {
		t.Errorf("%d list requests, want 2 (the replica's and poll now's)", got)
	}
}
