package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// BenchmarkReplicasDeliver delivers the same backlog (12 instances × 2,000
// notifications of about 1 KB, to a local receiver answering 204) with one
// dispatcher and then with three replicas' dispatchers on one PostgreSQL
// database, in the same run, and prints notifications/s of each and their
// ratio. On one machine the replicas share its cores, so the figure shows
// what sharing costs, not what more machines gain.
//
//	go test -run '^$' -bench ReplicasDeliver -benchtime 1x ./provider/
func BenchmarkReplicasDeliver(b *testing.B) {
	srv := pgtest.NewServer(b, pgtest.Durable())
	instances, each := 12, 2000
	if os.Getenv("BENCH_SMALL") != "" {
		instances, each = 1, 200
	}
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
		if got.Add(1) == want.Load() {
			done <- struct{}{}
		}
	}))
	defer cb.Close()
	body := json.RawMessage(`{"current":{"name":"` + strings.Repeat("x", 900) + `"}}`)
	run := func(replicas int) float64 {
		url := srv.NewDatabase(b)
		seed, err := postgres.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		defer seed.Close()
		for i := range instances {
			id := callbackInstance(b, seed, fmt.Sprintf("%s/cb%d", cb.URL, i), false)
			for k := 0; k < each; k++ {
				batch := make([]model.Event, 1)
				for j := range batch {
					batch[j] = model.Event{InstanceID: id, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "person",
						ObjectID: fmt.Sprint(k + j), EventType: model.Updated, VendorEventID: fmt.Sprintf("%d-%d", i, k+j), Raw: body}
				}
				if _, err := seed.AppendEvents(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		// Events of one call to one instance share a notification.
		pending, _, err := seed.NotificationCounts(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		got.Store(0)
		want.Store(int64(pending))
		var stores []*postgres.Store
		for range replicas {
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			stores = append(stores, st)
		}
		start := time.Now()
		var disps []*dispatch.Dispatcher
		for r, st := range stores {
			disps = append(disps, dispatch.Start(st, dispatch.Options{Shared: st, Owner: fmt.Sprint("replica", r), Logger: benchLog()}))
		}
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("%d of %d delivered in 5 minutes", got.Load(), pending)
		}
		elapsed := time.Since(start)
		for _, d := range disps {
			d.Stop()
		}
		return float64(pending) / elapsed.Seconds()
	}
	one := run(1)
	three := run(3)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("replica delivery, %d instances x %d notifications: 1 replica %.0f/s, 3 replicas %.0f/s in total (ratio %.2f); load average %s",
		instances, each, one, three, three/one, load)
	b.ReportMetric(three, "notifications/s")
}

func benchLog() *slog.Logger {
	if os.Getenv("BENCH_SMALL") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// BenchmarkReceiverPostgresVsBbolt measures one replica's ingest as
// vendors see it: the webhook receiver on a PostgreSQL store (fsync on,
// over its unix socket, on this machine) against the same receiver on
// bbolt (fsync on), under 64 concurrent keep-alive clients posting the
// Pipedrive v2 "Update person" body, in alternating rounds of the same
// load, and prints req/s, p50 and p99 of each and the ratio.
//
//	go test -run '^$' -bench ReceiverPostgresVsBbolt -benchtime 1x ./provider/
func BenchmarkReceiverPostgresVsBbolt(b *testing.B) {
	bst, err := store.Open(filepath.Join(b.TempDir(), "eventdesk.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bst.Close()
	srv := pgtest.NewServer(b, pgtest.Durable())
	pst, err := postgres.Open(context.Background(), srv.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pst.Close()
	type side struct {
		name string
		url  string
		res  loadResult
	}
	var sides []*side
	for _, s := range []struct {
		name string
		st   interface {
			provider.Store
			instanceCreator
		}
	}{{"bbolt", bst}, {"PostgreSQL", pst}} {
		id := newPipedriveInstance(b, s.st)
		h := httptest.NewServer(provider.New(s.st, provider.Config{PublicURL: "http://127.0.0.1"}))
		defer h.Close()
		sides = append(sides, &side{name: s.name, url: h.URL + model.WebhookPath("pipedrive", id)})
	}
	tr := &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: benchClients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var seq int64
	for _, s := range sides {
		runLoad(b, client, s.url, seq, benchWarmup, pdBody)
		seq += benchWarmup
	}
	const rounds, per = 4, benchRequests / 4
	var ratios []float64
	for round := range rounds {
		var rates [2]float64
		for i := range 2 {
			s := sides[(i+round)%2] // each goes first in every other round
			r := runLoad(b, client, s.url, seq, per, pdBody)
			seq += per
			s.res.elapsed += r.elapsed
			s.res.latencies = append(s.res.latencies, r.latencies...)
			rates[(i+round)%2] = r.rate()
		}
		if b.Failed() {
			return
		}
		ratios = append(ratios, rates[1]/rates[0])
	}
	for _, s := range sides {
		slices.Sort(s.res.latencies)
		fmt.Printf("receiver on %s: %.0f req/s, p50 %.1f ms, p99 %.1f ms\n", s.name, s.res.rate(),
			float64(percentile(s.res.latencies, 0.5).Microseconds())/1000, float64(percentile(s.res.latencies, 0.99).Microseconds())/1000)
	}
	slices.Sort(ratios)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("receiver PostgreSQL/bbolt: %.2f (rounds %.2f; median %.2f); load average %s", sides[1].res.rate()/sides[0].res.rate(), ratios, ratios[len(ratios)/2], load)
	b.ReportMetric(sides[1].res.rate()/sides[0].res.rate(), "pg/bbolt")
}

// instanceCreator is either store.
type instanceCreator interface {
	CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error)
}
