package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The replica test runs three engine processes on one PostgreSQL
// database, as three `serve --store postgres://…` replicas behind a load
// balancer would: it re-executes the test binary as each replica.
const (
	replicaChildEnv = "EVENTDESK_REPLICA_CHILD"
	replicaURLEnv   = "EVENTDESK_REPLICA_STORE"
	replicaPosters  = 12
	replicaKillAt   = 400  // acknowledged requests before one replica is killed
	replicaKillPage = 8    // or the page of the first poll (of 20) it is killed at, if that comes first
	replicaPosts    = 1500 // requests in all
	// replicaLease is the replicas' lease: the killed one's lanes pass
	// on this long after the kill, plus a claim pass.
	replicaLease = 2 * time.Second
)

// replicaChild is a replica's main: the engine on the database, on an
// ephemeral loopback port, until SIGKILL or SIGTERM.
func replicaChild() {
	serveChild("replica", func() (engine.Store, error) {
		return postgres.Open(context.Background(), os.Getenv(replicaURLEnv))
	}, engine.Options{Listen: "127.0.0.1:0", Lease: replicaLease})
}

// startReplica runs one replica process on the database at url.
func startReplica(t *testing.T, url string) *crashProc {
	t.Helper()
	return startChild(t, "TestReplicasSurviveAKilledOne", replicaChildEnv+"=1", replicaURLEnv+"="+url)
}

// callbackLog is the callback receiver's record: every request's
// webhook-id in arrival order, per path.
type callbackLog struct {
	mu   sync.Mutex
	hits map[string][]string // path → webhook ids, in arrival order
}

func (l *callbackLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	l.mu.Lock()
	l.hits[r.URL.Path] = append(l.hits[r.URL.Path], r.Header.Get("webhook-id"))
	l.mu.Unlock()
}

func (l *callbackLog) snapshot(path string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.hits[path])
}

// TestReplicasSurviveAKilledOne runs three replicas on one database under
// webhook load spread across them, with a long poll under way, kills the
// one polling with SIGKILL mid-load, and counts: every event that got a
// 2xx is stored exactly once, every notification reaches the callback
// receiver (in order for the ordered instances), the killed replica's
// lanes and poll are taken over within the lease time plus a second, and
// the vendor sees the resource polled by one replica at a time.
func TestReplicasSurviveAKilledOne(t *testing.T) {
	if os.Getenv(replicaChildEnv) == "1" {
		replicaChild()
		return
	}
	if testing.Short() {
		t.Skip("starts three engine processes and PostgreSQL")
	}
	url := pgtest.URL(t)
	recv := &callbackLog{hits: map[string][]string{}}
	cb := httptest.NewServer(recv)
	defer cb.Close()

	st, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	create := func(cfg map[string]string) int64 {
		t.Helper()
		raw := map[string]json.RawMessage{}
		for k, v := range cfg {
			raw[k], _ = json.Marshal(v)
		}
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Configuration: raw}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		in, err = st.CreateInstance(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		return in.ID
	}
	// Six instances, half of them ordered: each replica holds its share
	// of their lanes, so the one killed holds some.
	type target struct {
		id   int64
		path string
		ord  bool
		hook string
	}
	var targets []target
	for i := range 6 {
		tg := target{path: fmt.Sprintf("/cb%d", i), ord: i%2 == 1}
		cfg := map[string]string{model.KeyPipedriveToken: fmt.Sprint("t", i), model.KeyEventsEnabled: "true", model.KeyCallbackURL: cb.URL + tg.path}
		if tg.ord {
			cfg[model.KeyOrdered] = "true"
		}
		tg.id = create(cfg)
		tg.hook = model.WebhookPath("pipedrive", tg.id)
		targets = append(targets, tg)
	}
	// A polling instance whose poll lasts a few seconds: 20 pages, each
	// answered after 200 ms.
	vendor := fakepipedrive.New(fakepipedrive.Options{})
	var (
		vmu       sync.Mutex
		firstPage []time.Time // list requests without a cursor: polls starting
		pages     int         // list pages served
		// The kill comes at the replicaKillAt-th acknowledgement, or
		// at the replicaKillPage-th page of the first poll if that
		// comes first (a loaded machine acknowledges slowly): either
		// way while the first poll runs.
		killNow  = make(chan struct{})
		killOnce sync.Once
	)
	vsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/persons") {
			if r.URL.Query().Get("cursor") == "" {
				vmu.Lock()
				firstPage = append(firstPage, time.Now())
				vmu.Unlock()
			}
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			vmu.Lock()
			if pages++; pages == replicaKillPage {
				killOnce.Do(func() { close(killNow) })
			}
			vmu.Unlock()
		}
		vendor.ServeHTTP(w, r)
	}))
	defer vsrv.Close()
	polled := create(map[string]string{model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken, model.KeyEventsEnabled: "true",
		model.KeyCallbackURL: cb.URL + "/polled", model.KeyVendorType: "polling", model.KeyRefreshInterval: "1",
		model.KeyBaseURL: vsrv.URL + "/v1", model.KeyPollerConfiguration: `{"contacts":{"url":"/hubs/crm/contacts","idField":"id",` +
			`"datesConfiguration":{"updatedDateField":"update_time","createdDateField":"add_time"}}}`})
	vendor.Generate(fakepipedrive.KindPerson, 2000)
	targets = append(targets, target{id: polled, path: "/polled", hook: ""})
	st.Close()
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	replicas := []*crashProc{startReplica(t, url), startReplica(t, url), startReplica(t, url)}
	var victim atomic.Pointer[crashProc]
	// The first poll starts within a tenth of the interval (jitter).
	var pollOwner string
	waitFor(t, 15*time.Second, "a replica polling", func() bool {
		err := pool.QueryRow(t.Context(), "SELECT owner FROM work WHERE kind = 'poll' AND owner IS NOT NULL AND lease_until > now()").Scan(&pollOwner)
		return err == nil
	})

	tr := &http.Transport{MaxIdleConnsPerHost: replicaPosters}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu     sync.Mutex
		acked  = map[string]int{} // vendor id → 2xx answers
		failed atomic.Int64
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	hooked := int64(len(targets) - 1) // all but the polled instance
	for range replicaPosters {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > replicaPosts {
					return
				}
				// Round robin over the replicas, as a balancer spreads
				// the vendors' requests; a request to the dead one fails
				// and the vendor retries it at another.
				body := pdBody(n)
				for try := int64(0); try < 3; try++ {
					r := replicas[(n+try)%3]
					if r == victim.Load() {
						continue
					}
					resp, err := client.Post(r.url+targets[n%hooked].hook, "application/json", bytes.NewReader(body))
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						failed.Add(1)
						continue
					}
					mu.Lock()
					acked[pdVendorID(n)]++
					if len(acked) == replicaKillAt {
						killOnce.Do(func() { close(killNow) })
					}
					mu.Unlock()
					break
				}
			}
		})
	}
	<-killNow
	// The victim is the replica polling, holding its share of the lanes.
	held := map[string]int{}
	rows, err := pool.Query(t.Context(), "SELECT owner FROM work WHERE kind = 'lane' AND lease_until > now()")
	if err != nil {
		t.Fatal(err)
	}
	owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range owners {
		held[o]++
	}
	victimOwner := pollOwner
	for _, r := range replicas {
		_, port, _ := strings.Cut(strings.TrimPrefix(r.url, "http://"), ":")
		if strings.Contains(victimOwner, ":"+port+"/") {
			victim.Store(r)
		}
	}
	if victim.Load() == nil {
		t.Fatalf("the poll is held by %q, no replica of this test", victimOwner)
	}
	if held[victimOwner] == 0 {
		t.Errorf("the replica polling holds no lane at the kill (%v): lanes are not divided", held)
	}
	t.Logf("lanes held at the kill: %v; killing %s, which polls", held, victimOwner)
	if err := victim.Load().cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.Load().exited
	killedAt := time.Now()

	// Its lanes pass on once their leases run out: measure when no lane
	// with notifications pending is held by the dead replica any more.
	var lanesAt, pollAt time.Duration
	for lanesAt == 0 || pollAt == 0 {
		var stale, polling int
		if err := pool.QueryRow(t.Context(), `SELECT
			(SELECT count(*) FROM work w WHERE w.kind = 'lane' AND w.owner = $1
				AND EXISTS (SELECT 1 FROM notifications n WHERE n.instance_id = w.instance_id AND n.state = 'pending')),
			(SELECT count(*) FROM work w WHERE w.kind = 'poll' AND w.owner IS NOT NULL AND w.owner <> $1 AND w.lease_until > now())`,
			victimOwner).Scan(&stale, &polling); err != nil {
			t.Fatal(err)
		}
		if stale == 0 && lanesAt == 0 {
			lanesAt = time.Since(killedAt)
		}
		if polling > 0 && pollAt == 0 {
			pollAt = time.Since(killedAt)
		}
		if time.Since(killedAt) > 30*time.Second {
			var owner string
			var until time.Time
			_ = pool.QueryRow(t.Context(), "SELECT coalesce(owner, ''), lease_until FROM work WHERE kind = 'poll'").Scan(&owner, &until)
			t.Fatalf("30s after the kill: %d lanes still held by the killed replica, poll taken over: %v (poll lease: owner %q until %v; %s)",
				stale, pollAt > 0, owner, until, pollState(t, url, polled))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the killed replica's lanes taken over %v after the kill, its poll %v (lease %v)",
		lanesAt.Round(time.Millisecond), pollAt.Round(time.Millisecond), replicaLease)
	if lanesAt > replicaLease+time.Second || pollAt > replicaLease+time.Second {
		t.Errorf("takeover took %v (lanes) and %v (poll), more than the lease (%v) + 1s", lanesAt, pollAt, replicaLease)
	}
	wg.Wait()
	t.Logf("%d posts, %d acknowledged, %d failed attempts (the killed replica's)", replicaPosts, len(acked), failed.Load())

	// Every acknowledged event is stored exactly once.
	st, err = postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := storedByVendor(t, st)
	for v, n := range stored {
		if n != 1 {
			t.Errorf("delivery %s stored %d times", v, n)
		}
	}
	for v := range acked {
		if stored[v] != 1 {
			t.Errorf("acknowledged delivery %s stored %d times, want 1", v, stored[v])
		}
	}

	// Every notification reaches the receiver; the ordered instances' in
	// order.
	notes := func(inst int64) []model.Notification {
		var all []model.Notification
		for before := uint64(0); ; {
			page, next, err := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: inst, Before: before}, 500)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if next == 0 {
				break
			}
			before = next
		}
		slices.Reverse(all) // oldest first
		return all
	}
	// The poll taken over runs to its end before notifications are
	// counted, so that all of them exist.
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ps, err := st.PollStatus(t.Context(), polled, "contacts")
		if err == nil && ps.LastEnd.After(killedAt) && ps.LastError == "" && ps.Events > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the poll taken over did not end within 60s of the kill (%s)", pollState(t, url, polled))
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending := 0
		for _, tg := range targets {
			for _, n := range notes(tg.id) {
				if n.State != model.StateDelivered {
					pending++
				}
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications still not delivered 60s after the kill", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("every notification delivered %v after the kill", time.Since(killedAt).Round(time.Millisecond))

	// The poll taken over ran to its end; each record stored once; the
	// vendor saw two polls start (the killed one's and the one taking
	// over), never two at once.
	byObject := storedBy(t, st, func(e model.Event) string {
		if e.InstanceID != polled {
			return ""
		}
		return e.ObjectID
	})
	twice := 0
	for _, n := range byObject {
		if n > 1 {
			twice++
		}
	}
	if len(byObject) != 2000 || twice > 0 {
		t.Errorf("polled records stored: %d of 2000, %d of them more than once", len(byObject), twice)
	}
	vmu.Lock()
	starts := slices.Clone(firstPage)
	vmu.Unlock()
	if len(starts) != 2 {
		t.Errorf("the vendor saw %d polls start, want 2 (the killed replica's, then the one taking over)", len(starts))
	}
	for _, tg := range targets {
		ns := notes(tg.id)
		seq := map[string]int{}
		for i, n := range ns {
			seq[n.WebhookID] = i
		}
		hits := recv.snapshot(tg.path)
		seen := map[string]int{}
		for _, h := range hits {
			seen[h]++
		}
		twice := 0
		for _, n := range ns {
			switch seen[n.WebhookID] {
			case 0:
				t.Errorf("%s: notification %s delivered but never received", tg.path, n.ID)
			case 1:
			default:
				twice++
			}
		}
		// A notification the killed replica had posted and not yet
		// recorded is sent again by another (at least once); nothing else.
		t.Logf("%s (ordered %v): %d notifications, %d requests, %d sent twice", tg.path, tg.ord, len(ns), len(hits), twice)
		if twice > 16 {
			t.Errorf("%s: %d notifications sent twice; only those in flight at the kill may be", tg.path, twice)
		}
		if tg.ord {
			last, wrong := -1, 0
			for _, h := range hits {
				i, ok := seq[h]
				if !ok {
					t.Fatalf("%s: unknown webhook-id %q", tg.path, h)
				}
				// A resend of those in flight at the kill may repeat
				// them; nothing arrives before one earlier was received.
				if i > last+1 {
					if wrong++; wrong <= 5 {
						t.Errorf("%s: notification %d arrived before %d: out of order", tg.path, i, last+1)
					}
				}
				last = max(last, i)
			}
			if wrong > 5 {
				t.Errorf("%s: %d arrivals out of order in all", tg.path, wrong)
			}
		}
	}
	for _, r := range replicas {
		if r != victim.Load() {
			r.stop(t)
		}
	}
}

// pollState describes the polled resource's last poll, for failures.
func pollState(t *testing.T, url string, instance int64) string {
	st, err := postgres.Open(t.Context(), url)
	if err != nil {
		return err.Error()
	}
	defer st.Close()
	ps, err := st.PollStatus(t.Context(), instance, "contacts")
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("last poll started %s, ended %s, %d events, error %q", ps.LastStart.Format(time.RFC3339Nano), ps.LastEnd.Format(time.RFC3339Nano), ps.Events, ps.LastError)
}
