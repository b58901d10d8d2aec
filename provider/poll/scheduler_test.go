package poll

// Scheduler tests look inside the scheduler (its due map) to know when it
// has taken an instance change in, and watch the fake vendors' requests
// through channels; the clock is fake and nothing sleeps to hope.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/store"
)

var schedT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// vendor is one fake Pipedrive whose list requests are reported on a
// channel and can be held until released.
type vendor struct {
	fake    *fakepipedrive.Server
	srv     *httptest.Server
	arrived chan string

	mu   sync.Mutex
	hold chan struct{} // when not nil, list requests wait for it to close
}

func newVendor(t *testing.T, clock fakepipedrive.Clock) *vendor {
	v := &vendor{fake: fakepipedrive.New(fakepipedrive.Options{Clock: clock}), arrived: make(chan string, 100)}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		hold := v.hold
		v.mu.Unlock()
		select {
		case v.arrived <- r.URL.Path:
		default:
			t.Errorf("request channel full")
		}
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		v.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// expect waits for a request.
func (v *vendor) expect(t *testing.T, what string) string {
	t.Helper()
	select {
	case p := <-v.arrived:
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no request reached the vendor", what)
		return ""
	}
}

// none asserts that no request arrived (call it once the scheduler is known
// to have moved past the point where one could have been made).
func (v *vendor) none(t *testing.T, what string) {
	t.Helper()
	select {
	case p := <-v.arrived:
		t.Fatalf("%s: unexpected request %s", what, p)
	default:
	}
}

func (v *vendor) drain() {
	for {
		select {
		case <-v.arrived:
		default:
			return
		}
	}
}

// contactsPoller is a poller configuration of contacts alone.
const contactsPoller = `{"contacts":{"url":"/hubs/crm/contacts","idField":"id",` +
	`"datesConfiguration":{"updatedDateField":"update_time","createdDateField":"add_time"}}}`

// newPollingInstance stores a Pipedrive instance polling contacts every
// minute from v.
func newPollingInstance(t *testing.T, st instanceCreator, v *vendor, enabled bool, now time.Time) model.Instance {
	t.Helper()
	return newPollingInstanceOf(t, st, v, enabled, now, contactsPoller)
}

// newPollingInstanceOf stores a Pipedrive instance polling the resources of
// poller every minute from v.
func newPollingInstanceOf(t *testing.T, st instanceCreator, v *vendor, enabled bool, now time.Time, poller string) model.Instance {
	t.Helper()
	cfg := map[string]json.RawMessage{
		"pipedrive.api.token":             mustJSON(fakepipedrive.DefaultAPIToken),
		"base.url":                        mustJSON(v.srv.URL + "/v1"),
		"event.notification.enabled":      mustJSON(enabled),
		"event.vendor.type":               mustJSON("polling"),
		"event.poller.refresh_interval":   mustJSON("1"),
		"event.notification.callback.url": mustJSON("https://app.example.com/cb"),
		"event.poller.configuration":      json.RawMessage(poller),
	}
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Configuration: cfg}, now)
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

func mustJSON(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// dueOf reads one schedule: its due time, whether it exists, whether it
// runs.
func (s *Scheduler) dueOf(id int64, res string) (time.Time, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	due, ok := s.due[key{id, res}]
	return due, ok, s.running[key{id, res}]
}

// idle reports that the schedule exists, is not running and is due later
// than now (its poll finished and was rescheduled).
func (s *Scheduler) idle(id int64, res string, now time.Time) bool {
	due, ok, running := s.dueOf(id, res)
	return ok && !running && due.After(now)
}

func TestSchedulerFollowsInstanceChanges(t *testing.T) {
	clock := fakepipedrive.NewClock(schedT0)
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{Now: clock.Now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	va, vb := newVendor(t, clock), newVendor(t, clock)
	a := newPollingInstance(t, st, va, false, clock.Now())
	b := newPollingInstance(t, st, vb, true, clock.Now()) // the canary: always polling
	p := New(st, Options{Now: clock.Now, Sleep: func(context.Context, time.Duration) error { return nil }})
	s := StartSchedulerWith(st, p, SchedulerOptions{Rand: func() float64 { return 0 }})
	defer s.Stop()

	// Start: B is polled at once; A, disabled, is not even scheduled.
	vb.expect(t, "enabled instance at start")
	waitFor(t, "B's first poll is done", func() bool { return s.idle(b.ID, "contacts", clock.Now()) })
	if _, ok, _ := s.dueOf(a.ID, "contacts"); ok {
		t.Fatal("a disabled instance was scheduled")
	}
	va.none(t, "disabled instance")
	stB, _ := st.PollStatus(t.Context(), b.ID, "contacts")
	// With no jitter a success is due again at 95% of the interval.
	if want := stB.LastStart.Add(57 * time.Second); !stB.NextDue.Equal(want) || stB.LastError != "" {
		t.Errorf("B's status %+v, want nextDue %s", stB, want)
	}

	setEnabled := func(id int64, on bool) {
		t.Helper()
		_, err := st.UpdateInstance(t.Context(), id, func(cur model.Instance) (model.Instance, error) {
			return cur.Patch(model.InstanceRequest{Configuration: map[string]json.RawMessage{"event.notification.enabled": mustJSON(on)}}, clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Enabling A schedules it: it is polled without waiting an interval.
	clock.Advance(10 * time.Second)
	setEnabled(a.ID, true)
	if p := va.expect(t, "enabling"); p != "/api/v2/persons" {
		t.Errorf("A's poll asked for %s", p)
	}
	waitFor(t, "A's poll is done", func() bool { return s.idle(a.ID, "contacts", clock.Now()) })
	stA, _ := st.PollStatus(t.Context(), a.ID, "contacts")
	if !stA.LastStart.Equal(clock.Now()) || !stA.NextDue.Equal(clock.Now().Add(57*time.Second)) || stA.LastError != "" {
		t.Errorf("A's status %+v", stA)
	}

	// When the interval has passed, both are polled again.
	clock.Advance(time.Minute)
	s.poke()
	va.expect(t, "A's interval passed")
	vb.expect(t, "B's interval passed")
	waitFor(t, "both polls are done", func() bool {
		return s.idle(a.ID, "contacts", clock.Now()) && s.idle(b.ID, "contacts", clock.Now())
	})

	// "Poll now" while the scheduler's own poll of A runs: busy, not twice.
	va.mu.Lock()
	va.hold = make(chan struct{})
	va.mu.Unlock()
	clock.Advance(time.Minute)
	s.poke()
	va.expect(t, "held poll")
	vb.expect(t, "B alongside the held poll")
	if _, _, err := s.PollNow(context.Background(), a.ID, "contacts"); !errors.Is(err, ErrBusy) {
		t.Errorf("PollNow during a scheduled poll: %v, want ErrBusy", err)
	}
	va.mu.Lock()
	close(va.hold)
	va.hold = nil
	va.mu.Unlock()
	waitFor(t, "the held poll is done", func() bool {
		return s.idle(a.ID, "contacts", clock.Now()) && s.idle(b.ID, "contacts", clock.Now())
	})
	va.drain()
	vb.drain()

	// stopped proves that A is no longer polled: its schedule is gone, and
	// a later round that polls the canary B leaves A alone.
	stopped := func(what string) {
		t.Helper()
		waitFor(t, what+" takes A off the schedule", func() bool {
			_, ok, running := s.dueOf(a.ID, "contacts")
			return !ok && !running
		})
		clock.Advance(2 * time.Minute)
		s.poke()
		vb.expect(t, "canary after "+what)
		waitFor(t, "canary poll is done", func() bool { return s.idle(b.ID, "contacts", clock.Now()) })
		va.none(t, what)
	}

	setEnabled(a.ID, false)
	stopped("disabling")

	// Enabling again schedules it again.
	setEnabled(a.ID, true)
	va.expect(t, "enabling again")
	waitFor(t, "A's poll is done", func() bool { return s.idle(a.ID, "contacts", clock.Now()) })

	// A disabled instance (CE's "disabled": true) is not polled, events on
	// or not, and "poll now" says why; enabling it polls it again.
	setDisabled := func(id int64, on bool) {
		t.Helper()
		_, err := st.UpdateInstance(t.Context(), id, func(cur model.Instance) (model.Instance, error) {
			return cur.Patch(model.InstanceRequest{Disabled: &on}, clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(a.ID, true)
	stopped("disabling the instance")
	if _, _, err := s.PollNow(context.Background(), a.ID, ""); !errors.Is(err, ErrDisabled) {
		t.Errorf("PollNow of a disabled instance: %v, want ErrDisabled", err)
	}
	va.none(t, "poll now of a disabled instance")
	setDisabled(a.ID, false)
	va.expect(t, "enabling the instance again")
	waitFor(t, "A's poll is done", func() bool { return s.idle(a.ID, "contacts", clock.Now()) })

	if err := st.DeleteInstance(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	stopped("deleting")
}

// A resource dropped from the poller configuration loses its status and
// checkpoint with the update, and a poll of it still running when the update
// lands does not bring them back: PollStatuses (the API's
// /instances/{id}/polling, the console's "poll error") lists only what is
// configured.
func TestSchedulerForgetsDroppedResources(t *testing.T) {
	clock := fakepipedrive.NewClock(schedT0)
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{Now: clock.Now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := newVendor(t, clock)
	const dates = `"idField":"id","datesConfiguration":{"updatedDateField":"update_time","createdDateField":"add_time"}`
	resource := map[string]string{
		"contacts": `"contacts":{"url":"/hubs/crm/contacts",` + dates + `}`,
		"deals":    `"deals":{"url":"/hubs/crm/opportunities",` + dates + `}`,
		"broken":   `"broken":{"url":"/no/such/list",` + dates + `}`, // the vendor answers 404
	}
	poller := func(names ...string) string {
		var parts []string
		for _, n := range names {
			parts = append(parts, resource[n])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	in := newPollingInstanceOf(t, st, v, true, clock.Now(), poller("broken", "contacts", "deals"))
	p := New(st, Options{Now: clock.Now, Sleep: func(context.Context, time.Duration) error { return nil }})
	s := StartSchedulerWith(st, p, SchedulerOptions{Rand: func() float64 { return 0 }})
	defer s.Stop()

	statuses := func() map[string]model.PollStatus {
		t.Helper()
		list, err := st.PollStatuses(t.Context(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]model.PollStatus{}
		for _, ps := range list {
			out[ps.Resource] = ps
		}
		return out
	}
	setPoller := func(cfg string) {
		t.Helper()
		_, err := st.UpdateInstance(t.Context(), in.ID, func(cur model.Instance) (model.Instance, error) {
			return cur.Patch(model.InstanceRequest{Configuration: map[string]json.RawMessage{"event.poller.configuration": json.RawMessage(cfg)}}, clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	gone := func(res string) func() bool {
		return func() bool {
			_, ok, running := s.dueOf(in.ID, res)
			return !ok && !running
		}
	}

	waitFor(t, "the first polls are done", func() bool {
		return s.idle(in.ID, "broken", clock.Now()) && s.idle(in.ID, "contacts", clock.Now()) && s.idle(in.ID, "deals", clock.Now())
	})
	v.drain()
	got := statuses()
	if len(got) != 3 || got["broken"].LastError == "" || got["contacts"].LastError != "" || got["deals"].LastError != "" {
		t.Fatalf("statuses after the first polls: %+v", got)
	}

	// Dropped while idle: its failed status goes with the update.
	clock.Advance(5 * time.Second)
	setPoller(poller("contacts", "deals"))
	if got := statuses(); len(got) != 2 || got["broken"].Resource != "" {
		t.Errorf("after dropping broken, statuses %+v", got)
	}
	// The change reschedules the others at once.
	v.expect(t, "poll after the change")
	v.expect(t, "poll after the change")
	waitFor(t, "broken's schedule is gone and the others' polls are done", func() bool {
		return gone("broken")() && s.idle(in.ID, "contacts", clock.Now()) && s.idle(in.ID, "deals", clock.Now())
	})
	for _, ps := range statuses() {
		if ps.LastError != "" {
			t.Errorf("%s: error %q", ps.Resource, ps.LastError)
		}
	}

	// Dropped while its poll runs: the poll's end does not store it again.
	v.none(t, "nothing is due")
	v.mu.Lock()
	v.hold = make(chan struct{})
	v.mu.Unlock()
	clock.Advance(time.Minute)
	s.poke()
	v.expect(t, "held poll")
	v.expect(t, "held poll")
	if _, _, running := s.dueOf(in.ID, "deals"); !running {
		t.Fatal("deals is not being polled")
	}
	setPoller(poller("contacts"))
	v.mu.Lock()
	close(v.hold)
	v.hold = nil
	v.mu.Unlock()
	waitFor(t, "deals' schedule is gone", gone("deals"))
	waitFor(t, "contacts' poll is done", func() bool { return s.idle(in.ID, "contacts", clock.Now()) })
	if got := statuses(); len(got) != 1 || got["contacts"].LastError != "" || !got["contacts"].LastStart.Equal(clock.Now()) {
		t.Errorf("after dropping deals mid-poll, statuses %+v", got)
	}
}

// A restarted scheduler keeps each schedule's stored nextDue when it is
// still ahead, and polls at once what is overdue.
func TestSchedulerRestartKeepsRhythm(t *testing.T) {
	clock := fakepipedrive.NewClock(schedT0)
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{Now: clock.Now, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	vAhead, vOverdue := newVendor(t, clock), newVendor(t, clock)
	ahead := newPollingInstance(t, st, vAhead, true, clock.Now())
	overdue := newPollingInstance(t, st, vOverdue, true, clock.Now())
	clock.Advance(5 * time.Minute)
	aheadDue := clock.Now().Add(40 * time.Second)
	for id, due := range map[int64]time.Time{ahead.ID: aheadDue, overdue.ID: clock.Now().Add(-time.Minute)} {
		if err := st.SetPollStatus(t.Context(), model.PollStatus{InstanceID: id, Resource: "contacts", Checkpoint: schedT0, NextDue: due}); err != nil {
			t.Fatal(err)
		}
	}
	p := New(st, Options{Now: clock.Now})
	s := StartSchedulerWith(st, p, SchedulerOptions{Rand: func() float64 { return 0 }})
	defer s.Stop()

	vOverdue.expect(t, "overdue schedule")
	waitFor(t, "the overdue poll is done", func() bool { return s.idle(overdue.ID, "contacts", clock.Now()) })
	if due, ok, running := s.dueOf(ahead.ID, "contacts"); !ok || running || !due.Equal(aheadDue) {
		t.Errorf("schedule ahead: due %s (ok %v, running %v), want the stored %s", due, ok, running, aheadDue)
	}
	vAhead.none(t, "schedule not yet due")
	clock.Advance(time.Minute)
	s.poke()
	vAhead.expect(t, "schedule now due")
}

// nextDue: a success waits the interval (±5%) from the poll's start; a
// failure backs off from 30 s, doubling, up to the interval; rejected
// credentials wait the whole interval.
func TestSchedulerNextDue(t *testing.T) {
	now := schedT0
	r := 0.5 // no jitter: (0.5*0.1 - 0.05) = 0
	s := &Scheduler{p: New(nil, Options{Now: func() time.Time { return now }}), rand: func() float64 { return r }}
	in := model.Instance{Configuration: map[string]string{model.KeyRefreshInterval: "5"}}
	start := now.Add(-time.Minute)
	other := errors.New("vendor answered 503")
	for _, tc := range []struct {
		failures int
		err      error
		want     time.Time
	}{
		{0, nil, start.Add(5 * time.Minute)},
		{1, other, now.Add(30 * time.Second)},
		{2, other, now.Add(time.Minute)},
		{3, other, now.Add(2 * time.Minute)},
		{4, other, now.Add(4 * time.Minute)},
		{5, other, now.Add(5 * time.Minute)},
		{50, other, now.Add(5 * time.Minute)},
		{1, ErrCredentialsRejected, now.Add(5 * time.Minute)},
	} {
		got := s.nextDue(in, model.PollStatus{LastStart: start, Failures: tc.failures}, tc.err)
		if !got.Equal(tc.want) {
			t.Errorf("failures %d, err %v: next due %s, want %s", tc.failures, tc.err, got, tc.want)
		}
	}
	r = 0.99 // the jitter stays within ±5% of the interval
	if got := s.nextDue(in, model.PollStatus{LastStart: start}, nil); got.After(start.Add(5*time.Minute+15*time.Second)) || got.Before(start.Add(5*time.Minute)) {
		t.Errorf("jittered next due %s", got)
	}
}

// instanceCreator is either store.
type instanceCreator interface {
	CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error)
}
