package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// Two replicas on one database divide the delivery lanes, one started
// later included; one that stops hands its lanes over at once, long before
// its leases would run out; no notification is accepted by the receiver
// twice.
func TestReplicaHandsItsLanesOverOnStop(t *testing.T) {
	url := pgtest.URL(t)
	var (
		failing atomic.Bool
		mu      sync.Mutex
		okByID  = map[string]int{} // webhook-id → 2xx answers given
	)
	failing.Store(true)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if failing.Load() {
			// Try again in a second: the lanes stay busy, and
			// everything is due soon after the receiver recovers.
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		okByID[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer cb.Close()

	open := func() *postgres.Store {
		st, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	seed := open()
	defer seed.Close()
	var ids []int64
	for i := range 4 {
		ids = append(ids, callbackInstance(t, seed, fmt.Sprintf("%s/cb%d", cb.URL, i), i%2 == 1))
	}
	// A lease far longer than the test: lanes can pass on only by being
	// handed over.
	opts := engine.Options{Listen: "127.0.0.1:0", Lease: time.Hour, Retry: model.RetryPolicy{Base: 10 * time.Millisecond, MaxRetries: 9}}
	a, err := engine.Start(t.Context(), open(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 40 {
		ev := model.Event{InstanceID: ids[n%4], ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "person",
			ObjectID: fmt.Sprint(n), EventType: model.Updated, VendorEventID: fmt.Sprint("v", n), Date: time.Now(), ReceivedAt: time.Now(),
			Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
		if _, err := seed.AppendEvents(t.Context(), []model.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	// While the receiver fails, every lane stays held: all four by the
	// one replica, then, once a second one starts, two each.
	// The lanes a replica delivers itself (Lanes lists the others' too).
	lanes := func(e *engine.Engine) int {
		n := 0
		for _, l := range e.Dispatcher.Lanes() {
			if l.Replica == "" {
				n++
			}
		}
		return n
	}
	waitFor(t, 10*time.Second, "one replica holding all four lanes", func() bool { return lanes(a) == 4 })
	b, err := engine.Start(t.Context(), open(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop() })
	began := time.Now()
	waitFor(t, 10*time.Second, "both replicas holding two lanes", func() bool { return lanes(a) == 2 && lanes(b) == 2 })
	t.Logf("lanes divided two and two after %v", time.Since(began).Round(time.Millisecond))

	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	failing.Store(false)
	stopped := time.Now()
	waitFor(t, 20*time.Second, "every notification delivered by the replica left", func() bool {
		pending, _, err := seed.NotificationCounts(t.Context())
		return err == nil && pending == 0
	})
	t.Logf("every notification delivered %v after the other replica stopped", time.Since(stopped).Round(time.Millisecond))
	notes, _, err := seed.Notifications(t.Context(), store.NotificationFilter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range notes {
		if okByID[n.WebhookID] != 1 {
			t.Errorf("notification %s accepted %d times, want 1", n.ID, okByID[n.WebhookID])
		}
	}
	if len(notes) != 40 {
		t.Errorf("%d notifications, want 40", len(notes))
	}
}

// waitFor checks cond every 20 ms until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A console attached to one replica sees the lanes the others deliver:
// each replica reports its lanes' state with every renewal, so a held
// ordered lane shows on every replica, naming the one delivering it.
func TestLanesOfOtherReplicasShow(t *testing.T) {
	url := pgtest.URL(t)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer cb.Close()
	seed, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	var ids []int64
	for i := range 2 {
		ids = append(ids, callbackInstance(t, seed, fmt.Sprintf("%s/cb%d", cb.URL, i), true))
	}
	opts := engine.Options{Listen: "127.0.0.1:0", Lease: 3 * time.Second, Retry: model.RetryPolicy{Base: 10 * time.Millisecond, MaxRetries: 9}}
	var engines []*engine.Engine
	for range 2 {
		st, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Start(t.Context(), st, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Stop() })
		engines = append(engines, e)
	}
	for i, id := range ids {
		ev := model.Event{InstanceID: id, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "person",
			ObjectID: "1", EventType: model.Updated, VendorEventID: fmt.Sprint("v", i), Date: time.Now(), ReceivedAt: time.Now(),
			Raw: json.RawMessage(`{}`)}
		if _, err := seed.AppendEvents(t.Context(), []model.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	// Each replica holds one lane, held by its failing head; each sees
	// the other's, reported by the other.
	var seen []model.LaneStatus
	waitFor(t, 10*time.Second, "each replica showing the other's held lane", func() bool {
		seen = seen[:0]
		for _, e := range engines {
			lanes := e.Dispatcher.Lanes()
			local, remote := 0, 0
			for _, l := range lanes {
				switch {
				case l.Replica == "" && l.Held():
					local++
				case l.Replica != "" && l.Held():
					remote++
					seen = append(seen, l)
				}
			}
			if local != 1 || remote != 1 {
				return false
			}
		}
		return true
	})
	for _, l := range seen {
		if !strings.Contains(l.Summary(), "on replica "+l.Replica) || l.AsOf.IsZero() {
			t.Errorf("another replica's lane reads %q (as of %v)", l.Summary(), l.AsOf)
		}
	}
}

// callbackInstance stores a pipedrive instance with events on, delivering
// to callback, ordered or not, and returns its id.
func callbackInstance(tb testing.TB, st instanceCreator, callback string, ordered bool) int64 {
	tb.Helper()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"},
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyCallbackURL] = callback
	if ordered {
		in.Configuration[model.KeyOrdered] = "true"
	}
	if in, err = st.CreateInstance(context.Background(), in); err != nil {
		tb.Fatal(err)
	}
	return in.ID
}
