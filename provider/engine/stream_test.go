package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/store"
)

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// engineAt serves the API over st at addr ("127.0.0.1:0" picks a port);
// stop closes the listener and every connection, as a killed process would.
func engineAt(t *testing.T, st provider.Store, addr string, sec store.Secrets) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: provider.New(st, provider.Config{PublicURL: "http://" + ln.Addr().String(), Secrets: sec})}
	go srv.Serve(ln)
	var once sync.Once
	stop := func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

type collector struct {
	mu      sync.Mutex
	changes []backend.Change
	links   []backend.LinkState
}

func (c *collector) add(ch backend.Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.changes = append(c.changes, ch)
	return nil
}

func (c *collector) link(s backend.LinkState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.links = append(c.links, s)
}

func (c *collector) events() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for _, ch := range c.changes {
		if ch.Kind == backend.ChangeEvent {
			var e model.Event
			_ = json.Unmarshal(ch.Data, &e)
			ids = append(ids, e.Seq())
		}
	}
	return ids
}

func (c *collector) kinds(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ch := range c.changes {
		if ch.Kind == kind {
			n++
		}
	}
	return n
}

func (c *collector) connected() (up, down int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.links {
		if s.Connected {
			up++
		} else {
			down++
		}
	}
	return up, down
}

func appendEvents(t *testing.T, st *store.Store, n int) {
	t.Helper()
	evs := make([]model.Event, n)
	for i := range evs {
		evs[i] = model.Event{InstanceID: 1, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "deals",
			ObjectID: strconv.FormatInt(time.Now().UnixNano(), 10) + "-" + strconv.Itoa(i), EventType: model.Created, Raw: json.RawMessage(`{}`)}
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
}

// The engine is killed under a follower and started again on the same
// address: the follower says it is disconnected, reconnects by itself and
// resumes after the last change it had, so it sees every event exactly
// once, including those stored while it was away.
func TestChangeStreamSurvivesAnEngineRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := engineAt(t, st, "127.0.0.1:0", sec)
	remote, err := backend.NewRemote(backend.RemoteOptions{URL: "http://" + addr, User: sec.User, Organization: sec.Organization})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{}
	done := make(chan error, 1)
	go func() { done <- remote.Follow(ctx, "", c.add, c.link) }()
	waitFor(t, "the follower connects", func() bool { up, _ := c.connected(); return up == 1 })

	createPipedrive(t, st)
	if err := st.AddRejected(ctx, model.Rejected{Method: "POST", Path: "/x", Status: 401}); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, st, 10)
	waitFor(t, "10 events, the instance and the rejected request arrive", func() bool {
		return len(c.events()) == 10 && c.kinds(backend.ChangeInstance) == 1 && c.kinds(backend.ChangeRejected) == 1
	})

	// Kill: the listener and its connections go, then the store closes.
	stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower sees the engine gone", func() bool { _, down := c.connected(); return down >= 1 })

	// Restart: the store opens again and takes events before the
	// listener is back, as a receiver's backlog would.
	st, err = store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	appendEvents(t, st, 10)
	engineAt(t, st, addr, sec)
	waitFor(t, "the follower reconnects", func() bool { up, _ := c.connected(); return up >= 2 })
	appendEvents(t, st, 10)
	waitFor(t, "30 events in all", func() bool { return len(c.events()) >= 30 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow ended with %v", err)
	}
	ids := c.events()
	if len(ids) != 30 {
		t.Fatalf("%d events, want 30: %v", len(ids), ids)
	}
	for i, id := range ids {
		if id != uint64(i+1) {
			t.Fatalf("event %d is id %d: a gap or a duplicate: %v", i, id, ids)
		}
	}
	if c.kinds(backend.ChangeRejected) != 1 || c.kinds(backend.ChangeInstance) != 1 {
		t.Errorf("after the restart the stream repeated changes: %d rejected, %d instance", c.kinds(backend.ChangeRejected), c.kinds(backend.ChangeInstance))
	}
}

func strPtr[T any](v T) *T { return &v }

// createPipedrive creates a Pipedrive instance named P.
func createPipedrive(t *testing.T, st *store.Store) {
	t.Helper()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: strPtr("P"),
		Configuration: map[string]json.RawMessage{"pipedrive.api.token": json.RawMessage(`"t"`)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

// slowSnapshot holds every read of the instance list until the test has
// created its instance (or 200 ms have passed), so an instance created as
// soon as a follower is connected lands between the stream's headers and
// its snapshot, if the snapshot were read after the headers.
type slowSnapshot struct {
	*store.Store
	created chan struct{}
}

func (s *slowSnapshot) Instances(ctx context.Context) ([]model.Instance, error) {
	select {
	case <-s.created:
	case <-time.After(200 * time.Millisecond):
	}
	return s.Store.Instances(ctx)
}

// An instance created the moment a follower is connected is a change the
// follower gets, not part of what the stream took as already known.
func TestChangeStreamSendsAnInstanceCreatedAsItConnects(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowSnapshot{Store: st, created: make(chan struct{})}
	addr, _ := engineAt(t, slow, "127.0.0.1:0", sec)
	remote, err := backend.NewRemote(backend.RemoteOptions{URL: "http://" + addr, User: sec.User, Organization: sec.Organization})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &collector{}
	go remote.Follow(ctx, "", c.add, c.link)
	waitFor(t, "the follower connects", func() bool { up, _ := c.connected(); return up == 1 })
	createPipedrive(t, st)
	close(slow.created)
	waitFor(t, "the instance created as the follower connected arrives", func() bool { return c.kinds(backend.ChangeInstance) == 1 })
}

// A subscription the engine refuses (wrong secrets) does not retry for
// ever in silence: its link says why, and it ends.
func TestSubscriptionRefusedSaysWhy(t *testing.T) {
	st := openStore(t)
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := engineAt(t, st, "127.0.0.1:0", sec)
	remote, err := backend.NewRemote(backend.RemoteOptions{URL: "http://" + addr, User: sec.User, Organization: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := remote.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	select {
	case st := <-sub.Link():
		if st.Connected || st.Err == nil || !strings.Contains(st.Err.Error(), "401") {
			t.Errorf("link state %+v, want the 401", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no word on the link")
	}
	select {
	case _, ok := <-sub.C():
		for ok {
			_, ok = <-sub.C()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refused subscription did not end")
	}
}
