package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// With the database stopped, the listener stays up and answers webhooks
// 503 with Retry-After, never 2xx, and readiness says the store fails;
// when the database is back the same engine stores them again, without a
// restart, and a webhook answered 503 is stored once when it is sent
// again.
func TestWebhooksWhileTheDatabaseIsAway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL server")
	}
	pg, st, e, in := engineOnPostgres(t)
	base := "http://" + e.Addr
	hook := base + model.WebhookPath("pipedrive", in.ID)
	client := &http.Client{Timeout: 30 * time.Second}
	post := func(n int64) (int, http.Header, string) {
		t.Helper()
		resp, err := client.Post(hook, "application/json", bytes.NewReader(pdBody(n)))
		if err != nil {
			t.Fatalf("webhook %d: %v (the listener must stay up)", n, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	var readyBody string
	ready := func() int {
		t.Helper()
		resp, err := client.Get(base + "/health/ready")
		if err != nil {
			t.Fatalf("readiness: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		readyBody = string(b)
		return resp.StatusCode
	}
	if code, _, body := post(1); code != http.StatusOK {
		t.Fatalf("webhook with the database up: %d %s", code, body)
	}
	// A second instance gets no webhook before the database stops, so
	// its first one must read the instance from the dead database.
	cold := createPipedrive(t, st)

	pg.Stop(t)
	for n := int64(2); n <= 4; n++ {
		code, h, body := post(n)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("webhook %d with the database stopped: %d (Retry-After %q) %s; want 503 with Retry-After", n, code, h.Get("Retry-After"), body)
		}
	}
	resp, err := client.Post(base+model.WebhookPath("pipedrive", cold.ID), "application/json", bytes.NewReader(pdBody(5)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("first webhook of an instance not yet looked up, with the database stopped: %d (Retry-After %q) %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if code := ready(); code != http.StatusServiceUnavailable || !strings.Contains(readyBody, `"store"`) || !strings.Contains(readyBody, "PostgreSQL") {
		t.Errorf("readiness with the database stopped: %d %s; want 503 naming the store and its error", code, readyBody)
	}
	if n := strings.Count(readyBody, "postgres://"); n != 2 {
		// The store check's error and its lastError, each naming the
		// database once.
		t.Errorf("readiness with the database stopped names the database %d times, want 2 (error and lastError once each): %s", n, readyBody)
	}
	t.Logf("readiness with the database stopped: %s", readyBody)

	pg.Start(t)
	restarted := time.Now()
	deadline := restarted.Add(30 * time.Second)
	for {
		code, _, body := post(2)
		if code == http.StatusOK {
			break
		}
		if code/100 == 2 || time.Now().After(deadline) {
			t.Fatalf("webhook after the database came back: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The dispatcher's and the scheduler's loops report in again after
	// their back-off.
	for ready() != http.StatusOK {
		if time.Now().After(deadline) {
			resp, err := client.Get(base + "/health/ready")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Fatalf("readiness 30s after the database came back: %s", b)
			}
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ready again %v after the restart", time.Since(restarted).Round(time.Millisecond))
	// Sent again, the ones answered 503 are stored once; the one stored
	// before is a duplicate.
	for n := int64(1); n <= 4; n++ {
		_, _, body := post(n)
		var res struct{ Stored, Duplicates int }
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("webhook %d again: %s", n, body)
		}
		want := 0
		if n >= 3 {
			want = 1
		}
		if res.Stored != want || res.Stored+res.Duplicates != 1 {
			t.Errorf("webhook %d sent again: stored %d, duplicates %d; want stored %d", n, res.Stored, res.Duplicates, want)
		}
	}
	count, err := st.EventCount(t.Context())
	if err != nil || count != 4 {
		t.Errorf("events stored: %d (%v), want 4, each once", count, err)
	}
}

// Under load, PostgreSQL stopped for 10 s: the engine answers every
// webhook it cannot store 503, never 2xx, stays up, reconnects, and every
// webhook it answered 2xx is stored exactly once.
func TestLoadThroughADatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops a PostgreSQL server for 10 s under load")
	}
	pg, st, e, in := engineOnPostgres(t)
	hook := "http://" + e.Addr + model.WebhookPath("pipedrive", in.ID)
	client := &http.Client{Timeout: 30 * time.Second}

	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		refused  int
		next     atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		outage   atomic.Bool
		ackedOut int
	)
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := next.Add(1)
				down := outage.Load()
				resp, err := client.Post(hook, "application/json", bytes.NewReader(pdBody(n)))
				if err != nil {
					t.Errorf("webhook %d: %v (the listener must stay up)", n, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				switch {
				case resp.StatusCode == http.StatusOK:
					acked[pdVendorID(n)] = true
					if down && outage.Load() {
						ackedOut++
					}
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					refused++
				default:
					t.Errorf("webhook %d: %d", n, resp.StatusCode)
				}
				mu.Unlock()
			}
		})
	}
	waitAcked := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d webhooks stored, want %d within 30s", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked(200)
	pg.Stop(t)
	outage.Store(true)
	time.Sleep(10 * time.Second) // the outage itself
	outage.Store(false)
	pg.Start(t)
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitAcked(before + 200)
	close(stop)
	wg.Wait()

	stored := storedByVendor(t, st)
	for v := range acked {
		if stored[v] != 1 {
			t.Errorf("webhook %s answered 200 is stored %d times, want 1", v, stored[v])
		}
	}
	for v, n := range stored {
		if n != 1 {
			t.Errorf("webhook %s stored %d times", v, n)
		}
	}
	if refused == 0 {
		t.Error("no webhook was answered 503 during a 10 s outage")
	}
	if ackedOut > 0 {
		t.Errorf("%d webhooks answered 200 while the database was stopped", ackedOut)
	}
	t.Logf("%d webhooks stored (each once, all answered 200 stored), %d answered 503 with Retry-After during the outage", len(acked), refused)
}

// engineOnPostgres starts an engine on a fresh database of a PostgreSQL
// server of the test's own (so the test may stop it), with one Pipedrive
// instance.
func engineOnPostgres(t *testing.T) (*pgtest.Server, *postgres.Store, *engine.Engine, model.Instance) {
	t.Helper()
	pg := pgtest.NewServer(t)
	st, err := postgres.Open(t.Context(), pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	in := createPipedrive(t, st)
	e, err := engine.Start(t.Context(), st, engine.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return pg, st, e, in
}

// createPipedrive creates a Pipedrive instance in st.
func createPipedrive(t *testing.T, st *postgres.Store) model.Instance {
	t.Helper()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"},
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

// eventsReader reads the stored events in order.
type eventsReader interface {
	EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error)
}

// storedByVendor counts the stored events by vendor event id.
func storedByVendor(t *testing.T, st eventsReader) map[string]int {
	t.Helper()
	return storedBy(t, st, func(e model.Event) string { return e.VendorEventID })
}

// storedBy counts the stored events by a key; events whose key is empty
// are not counted.
func storedBy(t *testing.T, st eventsReader, key func(model.Event) string) map[string]int {
	t.Helper()
	stored := map[string]int{}
	for after := uint64(0); ; {
		evs, err := st.EventsAfter(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return stored
		}
		for _, ev := range evs {
			if k := key(ev); k != "" {
				stored[k]++
			}
			after = ev.Seq()
		}
	}
}
