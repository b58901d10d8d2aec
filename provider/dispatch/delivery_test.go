package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
)

// Concurrent and ordered delivery, the circuit, a disabled instance, and
// the faults around recording outcomes and deleting instances.

// eventually re-checks cond every few milliseconds until it holds or the
// deadline passes; for state with no commit to wait on (a lane's status).
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// notifyN stores n webhook events for an instance, one notification each,
// and returns their ids in creation order.
func notifyN(t testing.TB, st *store.Store, inst int64, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = notify(t, st, inst, fmt.Sprint(prefix, i)).ID
	}
	return ids
}

func allIn(t testing.TB, st *store.Store, ids []string, s model.NotificationState) func() bool {
	return func() bool {
		for _, id := range ids {
			if notification(t, st, id).State != s {
				return false
			}
		}
		return true
	}
}

// concurrencyMeter counts requests in flight at a receiver.
type concurrencyMeter struct {
	mu       sync.Mutex
	now, max int
}

func (m *concurrencyMeter) enter() {
	m.mu.Lock()
	m.now++
	m.max = max(m.max, m.now)
	m.mu.Unlock()
}

func (m *concurrencyMeter) leave() {
	m.mu.Lock()
	m.now--
	m.mu.Unlock()
}

func (m *concurrencyMeter) peak() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}

// One notification the receiver always refuses with a 400 does not slow
// the others of its instance (concurrent mode, the default): they are all
// delivered at their first attempt while the poison keeps failing.
func TestPoisonConcurrent(t *testing.T) {
	var poison atomic.Value
	poison.Store("")
	rc := newReceiver(t, func(_ int, r *http.Request) reply {
		if r.Header.Get("webhook-id") == poison.Load().(string) {
			return reply{status: http.StatusBadRequest, body: "schema violation"}
		}
		return reply{status: 200}
	})
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "poison", rc.URL, nil)
	p := notify(t, st, in.ID, "poison")
	poison.Store(p.WebhookID)
	others := notifyN(t, st, in.ID, "ok-", 200)
	t0 := time.Now()
	// Retries 8 ms, 32 ms, 128 ms … after the poison's first failure: it
	// keeps failing all through the run.
	start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: 2 * time.Millisecond, MaxRetries: 9}})
	waitStore(t, st, 10*time.Second, "the others delivered", allIn(t, st, others, model.StateDelivered))
	took := time.Since(t0)
	for _, id := range others {
		if n := notification(t, st, id); n.Attempts != 1 {
			t.Errorf("notification %s took %d attempts, want 1", id, n.Attempts)
		}
	}
	if n := notification(t, st, p.ID); n.State != model.StatePending || n.LastStatus != 400 {
		t.Errorf("poison is %s (last status %d), want pending after a 400", n.State, n.LastStatus)
	}
	t.Logf("concurrent: 200 notifications delivered in %v next to one answered 400 on every try", took.Round(time.Millisecond))
}

// In ordered mode a notification refused with a permanent 4xx holds the
// lane for one retry only: the second refusal makes it dead (replayable)
// and the rest follow in order.
func TestPoisonOrderedPermanent4xx(t *testing.T) {
	var poison atomic.Value
	poison.Store("")
	rc := newReceiver(t, func(_ int, r *http.Request) reply {
		if r.Header.Get("webhook-id") == poison.Load().(string) {
			return reply{status: http.StatusUnprocessableEntity}
		}
		return reply{status: 200}
	})
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "ordered-4xx", rc.URL, map[string]string{model.KeyOrdered: "true"})
	p := notify(t, st, in.ID, "poison")
	poison.Store(p.WebhookID)
	others := notifyN(t, st, in.ID, "ok-", 20)
	d := start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: 5 * time.Millisecond, MaxRetries: 9}})

	for i := range 2 {
		if h := rc.next(5*time.Second, "the poison"); h.WebhookID != p.WebhookID || h.Status != 422 {
			t.Fatalf("request %d went to %s (status %d), want the poison first", i+1, h.ID, h.Status)
		}
	}
	for _, id := range others {
		if h := rc.next(5*time.Second, "the rest in order"); h.ID != id || h.Status != 200 {
			t.Fatalf("got %s (status %d), want %s next", h.ID, h.Status, id)
		}
	}
	// Outcomes are recorded in group commits a few milliseconds behind
	// the sends.
	waitStore(t, st, 5*time.Second, "the poison recorded dead", stateIs(t, st, p.ID, model.StateDead))
	n := notification(t, st, p.ID)
	if n.State != model.StateDead || n.Attempts != 2 || !strings.Contains(n.LastError, "answered 422 twice") {
		t.Errorf("poison: %s after %d attempts, %q; want dead after 2, saying why", n.State, n.Attempts, n.LastError)
	}
	// Dead, so replayable: once the receiver takes it, it is delivered.
	poison.Store("none")
	if _, err := d.Replay(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	waitStore(t, st, 5*time.Second, "the replayed poison delivered", stateIs(t, st, p.ID, model.StateDelivered))
	if got := notification(t, st, p.ID); got.WebhookID != p.WebhookID {
		t.Errorf("replay changed the webhook-id")
	}
}

// In ordered mode a head that keeps failing with a 5xx holds the lane for
// event.notification.ordered.maxHold, which the console shows, then goes
// dead and the lane moves on in order.
func TestPoisonOrderedMaxHold(t *testing.T) {
	var poison atomic.Value
	poison.Store("")
	rc := newReceiver(t, func(_ int, r *http.Request) reply {
		if r.Header.Get("webhook-id") == poison.Load().(string) {
			return reply{status: 500}
		}
		return reply{status: 200}
	})
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "ordered-hold", rc.URL, map[string]string{model.KeyOrdered: "true", model.KeyOrderedMaxHold: "1s"})
	p := notify(t, st, in.ID, "poison")
	poison.Store(p.WebhookID)
	others := notifyN(t, st, in.ID, "ok-", 10)
	// Retries 200 ms, 800 ms, 3.2 s … after the first failure: the hold
	// (1 s) ends before the third retry would be due.
	d := start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: 50 * time.Millisecond, MaxRetries: 9}})

	first := rc.next(5*time.Second, "the poison's first attempt")
	if first.WebhookID != p.WebhookID {
		t.Fatalf("first request went to %s, want the poison %s", first.ID, p.ID)
	}
	eventually(t, 5*time.Second, "the lane to show it is held", func() bool {
		s, ok := d.Lane(in.ID)
		return ok && s.HeldBy == p.ID && !s.HeldSince.IsZero()
	})
	s, _ := d.Lane(in.ID)
	if !s.Ordered || !strings.Contains(s.Summary(), "held since") || !strings.Contains(s.Summary(), "by notification "+p.ID) {
		t.Errorf("lane status %+v, summary %q", s, s.Summary())
	}
	var poisonTries int
	var firstOther hit
	for {
		h := rc.next(5*time.Second, "the lane to move on")
		if h.WebhookID == p.WebhookID {
			poisonTries++
			continue
		}
		firstOther = h
		break
	}
	// Measured at the receiver, which sees the first attempt a little
	// after the dispatcher started it (where the hold begins).
	held := firstOther.At.Sub(first.At)
	if held < 900*time.Millisecond || held > 3*time.Second {
		t.Errorf("the lane moved on %v after the head's first failure, want about the 1s maxHold", held)
	}
	if firstOther.ID != others[0] {
		t.Errorf("after the hold %s went first, want %s", firstOther.ID, others[0])
	}
	for _, id := range others[1:] {
		if h := rc.next(5*time.Second, "the rest in order"); h.ID != id {
			t.Fatalf("got %s, want %s", h.ID, id)
		}
	}
	waitStore(t, st, 5*time.Second, "the poison recorded dead", stateIs(t, st, p.ID, model.StateDead))
	n := notification(t, st, p.ID)
	if n.State != model.StateDead || !strings.Contains(n.LastError, model.KeyOrderedMaxHold) || !strings.Contains(n.LastError, "HTTP 500") {
		t.Errorf("poison: %s, %q; want dead naming the hold and the last answer", n.State, n.LastError)
	}
	if poisonTries < 2 || poisonTries > 3 {
		t.Errorf("poison retried %d times within the hold, want 2 or 3 (200 ms, 800 ms, and the last at 1 s)", poisonTries)
	}
	t.Logf("ordered: held %v by a notification answered 500 (maxHold 1s), then the 10 behind it in order", held.Round(time.Millisecond))
}

// An instance sends at most event.notification.concurrency requests at
// once, and all instances together at most MaxInFlight.
func TestConcurrencyLimits(t *testing.T) {
	release := make(chan struct{})
	var perInst [3]concurrencyMeter
	var all concurrencyMeter
	rcs := make([]*receiver, 3)
	for i := range rcs {
		m := &perInst[i]
		rcs[i] = newReceiver(t, func(int, *http.Request) reply {
			m.enter()
			all.enter()
			<-release
			all.leave()
			m.leave()
			return reply{status: 200}
		})
	}
	st := openStore(t, store.Options{NoSync: true})
	var ids []string
	insts := make([]model.Instance, 3)
	for i := range insts {
		insts[i] = newInstance(t, st, fmt.Sprint("limit-", i), rcs[i].URL, map[string]string{model.KeyConcurrency: "3"})
		ids = append(ids, notifyN(t, st, insts[i].ID, fmt.Sprint("l", i, "-"), 10)...)
	}
	d := start(t, st, dispatch.Options{Policy: fastPolicy, MaxInFlight: 7})
	eventually(t, 5*time.Second, "7 requests in flight", func() bool {
		n := 0
		for _, s := range d.Lanes() {
			n += s.InFlight
		}
		return n == 7
	})
	close(release)
	waitStore(t, st, 10*time.Second, "all delivered", allIn(t, st, ids, model.StateDelivered))
	for i := range perInst {
		if p := perInst[i].peak(); p > 3 {
			t.Errorf("instance %d had %d requests in flight, concurrency is 3", i, p)
		}
	}
	if p := all.peak(); p > 7 {
		t.Errorf("%d requests in flight in all, the cap is 7", p)
	}
}

// A callback that keeps failing opens the instance's circuit: attempts
// stop for the cooldown, then one probe goes; another instance's delivery
// is not affected, and a successful probe closes the circuit.
func TestCircuitSlowsAFailingEndpoint(t *testing.T) {
	var up atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) reply {
		if up.Load() {
			return reply{status: 200}
		}
		return reply{status: http.StatusBadGateway}
	})
	healthy := newReceiver(t, nil)
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "down", rc.URL, nil)
	other := newInstance(t, st, "up", healthy.URL, nil)
	ids := notifyN(t, st, in.ID, "down-", 20)
	const cooldown = 150 * time.Millisecond
	d := start(t, st, dispatch.Options{
		Policy:  model.RetryPolicy{Base: time.Millisecond, MaxRetries: 9},
		Circuit: dispatch.CircuitOptions{Threshold: 5, Cooldown: cooldown, MaxCooldown: 4 * cooldown},
	})
	// Open, and the requests in flight when it opened (up to 8) answered.
	var open model.LaneStatus
	eventually(t, 5*time.Second, "the circuit to open", func() bool {
		open, _ = d.Lane(in.ID)
		return open.CircuitOpen && open.InFlight == 0
	})
	atOpen := rc.count()
	if atOpen > 5+8 {
		t.Errorf("%d requests before the circuit opened, threshold 5 and 8 in flight", atOpen)
	}
	s, _ := d.Lane(in.ID)
	if !strings.Contains(s.Summary(), "circuit open") {
		t.Errorf("summary %q does not show the open circuit", s.Summary())
	}
	// Another instance is delivered meanwhile.
	b := notify(t, st, other.ID, "bystander")
	waitStore(t, st, 5*time.Second, "the other instance delivered", stateIs(t, st, b.ID, model.StateDelivered))

	rc.drain()
	probe := rc.next(5*time.Second, "the half-open probe")
	if early := open.CircuitUntil.Sub(probe.At); early > 0 {
		t.Errorf("probe %v before the cooldown ended", early)
	}
	eventually(t, 5*time.Second, "the failed probe to reopen the circuit", func() bool {
		s, _ := d.Lane(in.ID)
		return s.CircuitOpen && s.CircuitUntil.Sub(probe.At) > cooldown+cooldown/2
	})
	if got := rc.count(); got > atOpen+8+1 {
		t.Errorf("%d requests by the first probe; the open circuit let %d more through than the probe", got, got-atOpen-1)
	}
	up.Store(true)
	waitStore(t, st, 10*time.Second, "all delivered once the receiver is back", allIn(t, st, ids, model.StateDelivered))
	if s, _ := d.Lane(in.ID); s.CircuitOpen {
		t.Error("circuit still open after deliveries succeeded")
	}
}

// A disabled instance's notifications are neither attempted nor made dead;
// they go out once it is enabled again.
func TestDisabledInstanceHoldsNotifications(t *testing.T) {
	rc := newReceiver(t, nil)
	barrier := newReceiver(t, nil)
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "disabled", rc.URL, nil)
	other := newInstance(t, st, "other", barrier.URL, nil)
	setDisabled := func(v bool) {
		t.Helper()
		if _, err := st.UpdateInstance(t.Context(), in.ID, func(cur model.Instance) (model.Instance, error) {
			cur.Disabled = v
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(true)
	ids := notifyN(t, st, in.ID, "held-", 5)
	d := start(t, st, dispatch.Options{Policy: fastPolicy})
	// Commits for another instance wake every lane; each is delivered.
	for i := range 3 {
		b := notify(t, st, other.ID, fmt.Sprint("o-", i))
		waitStore(t, st, 5*time.Second, "barrier delivered", stateIs(t, st, b.ID, model.StateDelivered))
	}
	eventually(t, 5*time.Second, "the lane to say it is paused", func() bool {
		s, _ := d.Lane(in.ID)
		return s.Paused == "instance disabled"
	})
	if rc.count() != 0 {
		t.Fatalf("a disabled instance's receiver got %d requests", rc.count())
	}
	for _, id := range ids {
		if n := notification(t, st, id); n.State != model.StatePending || n.Attempts != 0 {
			t.Errorf("notification %s is %s after %d attempts, want pending and untried", id, n.State, n.Attempts)
		}
	}
	setDisabled(false)
	waitStore(t, st, 5*time.Second, "delivered once enabled", allIn(t, st, ids, model.StateDelivered))
}

// When outcomes cannot be recorded (a full disk), delivery pauses with
// backoff: nothing delivered is sent again, and nothing new goes out until
// recording works again. (Before, the lane re-sent everything behind its
// cursor with no pause.)
func TestRecordFailurePausesWithoutResending(t *testing.T) {
	var perID sync.Map // webhook-id → *atomic.Int64
	rc := newReceiver(t, func(_ int, r *http.Request) reply {
		c, _ := perID.LoadOrStore(r.Header.Get("webhook-id"), new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
		return reply{status: 200}
	})
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "fulldisk", rc.URL, map[string]string{model.KeyConcurrency: "4"})
	var full atomic.Bool
	var failures atomic.Int64
	failed := make(chan struct{}, 100)
	record := func(ctx context.Context, recs []store.AttemptRecord) error {
		if full.Load() {
			failures.Add(1)
			select {
			case failed <- struct{}{}:
			default:
			}
			return fmt.Errorf("write attempts: %w", syscall.ENOSPC)
		}
		return st.RecordAttempts(ctx, recs)
	}
	full.Store(true)
	ids := notifyN(t, st, in.ID, "fd-", 200)
	d := start(t, st, dispatch.Options{Policy: fastPolicy, Record: record, RecordBackoff: 5 * time.Millisecond})
	// Let several retries of the write fail (5, 10, 20, 40 ms …).
	for range 5 {
		select {
		case <-failed:
		case <-time.After(5 * time.Second):
			t.Fatal("the recorder never tried to record")
		}
	}
	sent := rc.count()
	if sent == 0 || sent >= len(ids)/2 {
		t.Errorf("%d callbacks while outcomes could not be recorded; want the first few, then a pause", sent)
	}
	eventually(t, 5*time.Second, "the lane to show the pause", func() bool {
		s, _ := d.Lane(in.ID)
		return strings.Contains(s.Paused, "cannot be recorded")
	})
	if _, err := d.Replay(t.Context(), ids[0]); err == nil || !strings.Contains(err.Error(), "cannot be recorded") {
		t.Errorf("replay while recording fails = %v, want a clear refusal", err)
	}
	for range 3 {
		<-failed
	}
	if got := rc.count(); got != sent {
		t.Errorf("%d callbacks after the pause began, want none (%d before)", got-sent, sent)
	}

	full.Store(false)
	waitStore(t, st, 10*time.Second, "all delivered once the disk has room", allIn(t, st, ids, model.StateDelivered))
	perID.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n != 1 {
			t.Errorf("webhook-id %s sent %d times, want once", k, n)
		}
		return true
	})
	if rc.count() != len(ids) {
		t.Errorf("%d callbacks for %d notifications", rc.count(), len(ids))
	}
	t.Logf("%d failed writes, %d callbacks during the failure, %d in all for %d notifications", failures.Load(), sent, rc.count(), len(ids))
}

// Deleting an instance while its notification is on the wire leaves that
// notification dead (the attempt's outcome does not bring it back to
// pending), and no lane is started for the missing instance again.
func TestDeleteDuringAttempt(t *testing.T) {
	for _, answer := range []int{500, 200} {
		t.Run(fmt.Sprint(answer), func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			release := make(chan struct{})
			rc := newReceiver(t, func(int, *http.Request) reply {
				arrived <- struct{}{}
				<-release
				return reply{status: answer}
			})
			other := newReceiver(t, nil)
			st := openStore(t, store.Options{NoSync: true})
			in := newInstance(t, st, "doomed", rc.URL, nil)
			bystander := newInstance(t, st, "bystander", other.URL, nil)
			n := notify(t, st, in.ID, "doomed-1")
			d := start(t, st, dispatch.Options{Policy: fastPolicy})
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatal("no attempt")
			}
			if err := st.DeleteInstance(t.Context(), in.ID); err != nil {
				t.Fatal(err)
			}
			close(release)
			waitStore(t, st, 5*time.Second, "the attempt recorded", func() bool {
				att, _ := st.Attempts(t.Context(), n.ID)
				return len(att) == 1
			})
			if got := notification(t, st, n.ID); got.State != model.StateDead || got.LastError != "instance deleted" {
				t.Errorf("after the attempt: %s, %q; want dead, instance deleted", got.State, got.LastError)
			}
			// Later commits start no lane for the missing instance.
			for i := range 3 {
				b := notify(t, st, bystander.ID, fmt.Sprint("b-", i))
				waitStore(t, st, 5*time.Second, "bystander delivered", stateIs(t, st, b.ID, model.StateDelivered))
			}
			eventually(t, 5*time.Second, "the deleted instance's lane to end", func() bool {
				_, ok := d.Lane(in.ID)
				return !ok
			})
			if ids, _ := st.PendingInstances(t.Context()); len(ids) != 0 && ids[0] == in.ID {
				t.Errorf("pending instances %v include the deleted one", ids)
			}
			if rc.count() != 1 {
				t.Errorf("deleted instance's receiver got %d requests, want 1", rc.count())
			}
		})
	}
}

// Deleting an instance whose lane waits (disabled, nothing in flight)
// ends the lane; its notifications are dead, never sent.
func TestDeleteWhilePaused(t *testing.T) {
	rc := newReceiver(t, nil)
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "paused", rc.URL, nil)
	if _, err := st.UpdateInstance(t.Context(), in.ID, func(cur model.Instance) (model.Instance, error) {
		cur.Disabled = true
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	ids := notifyN(t, st, in.ID, "p-", 3)
	d := start(t, st, dispatch.Options{Policy: fastPolicy})
	eventually(t, 5*time.Second, "the lane to wait", func() bool {
		s, ok := d.Lane(in.ID)
		return ok && s.Paused == "instance disabled"
	})
	if err := st.DeleteInstance(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the lane to end", func() bool {
		_, ok := d.Lane(in.ID)
		return !ok
	})
	waitStore(t, st, 5*time.Second, "dead", allIn(t, st, ids, model.StateDead))
	if rc.count() != 0 {
		t.Errorf("%d requests for a deleted instance", rc.count())
	}
}
