package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// appender is what the ingest benchmark drives on either backend.
type appender func(ctx context.Context, events []model.Event) (store.AppendResult, error)

// benchBody is a webhook body of about 1 KB, as a Pipedrive one.
var benchBody = json.RawMessage(`{"meta":{"action":"updated","object":"person","id":1,"company_id":1,"user_id":1,"host":"x.pipedrive.com","timestamp":1700000000},"current":{"id":1,"name":"` + strings.Repeat("x", 900) + `"}}`)

// ingestRun is one timed load: writers goroutines appending batches of
// batch events for d. It returns events stored per second and the p99 of
// a call's latency.
func ingestRun(b *testing.B, appendFn appender, instanceID int64, writers, batch int, d time.Duration, tag string) (float64, time.Duration) {
	rate, p99, _ := ingestCount(b, appendFn, instanceID, writers, batch, d, tag)
	return rate, p99
}

// ingestCount is ingestRun that also returns how many events it stored.
func ingestCount(b *testing.B, appendFn appender, instanceID int64, writers, batch int, d time.Duration, tag string) (float64, time.Duration, int64) {
	var (
		stored atomic.Int64
		mu     sync.Mutex
		lat    []time.Duration
		wg     sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			var mine []time.Duration
			for i := 0; time.Now().Before(stop); i++ {
				events := make([]model.Event, batch)
				for j := range events {
					events[j] = model.Event{InstanceID: instanceID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
						ObjectType: "contacts", ObjectID: fmt.Sprint(i), EventType: model.Updated,
						VendorEventID: fmt.Sprintf("%s-%d-%d-%d", tag, w, i, j), Raw: benchBody}
				}
				t0 := time.Now()
				res, err := appendFn(context.Background(), events)
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
				stored.Add(int64(len(res.Stored)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	var p99 time.Duration
	if len(lat) > 0 {
		p99 = lat[len(lat)*99/100]
	}
	return float64(stored.Load()) / elapsed.Seconds(), p99, stored.Load()
}

// selfCPU is this process's CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func benchInstance(b *testing.B) model.Instance {
	n := "bench"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &n,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "webhook"
	in.Configuration[model.KeyCallbackURL] = "http://127.0.0.1:1/cb"
	return in
}

// BenchmarkIngestVsBbolt stores webhook events (about 1 KB each, with
// their notifications) from concurrent writers on bbolt (fsync on) and on
// PostgreSQL (fsync on, over its unix socket), alternating rounds of the
// same load in the same run, and prints events/s, p99 per call and the
// ratio PostgreSQL/bbolt (median over rounds). Run it alone:
//
//	go test -run '^$' -bench IngestVsBbolt -benchtime 1x ./store/postgres/
func BenchmarkIngestVsBbolt(b *testing.B) {
	srv := pgtest.NewServer(b, pgtest.Durable())
	const writers, rounds, round = 16, 3, 2 * time.Second
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			bolt, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bolt.Close()
			bin, err := bolt.CreateInstance(context.Background(), benchInstance(b))
			if err != nil {
				b.Fatal(err)
			}
			pg, err := postgres.Open(context.Background(), srv.NewDatabase(b), postgres.WithMaxConns(8))
			if err != nil {
				b.Fatal(err)
			}
			defer pg.Close()
			pin, err := pg.CreateInstance(context.Background(), benchInstance(b))
			if err != nil {
				b.Fatal(err)
			}
			var ratios, boltRates, pgRates, cpuRatios []float64
			var boltP99, pgP99, boltCPU, pgCPU []float64
			for r := range rounds {
				c0 := selfCPU()
				br, bp, bn := ingestCount(b, bolt.AppendEvents, bin.ID, writers, batch, round, fmt.Sprint("b", r))
				c1, s1 := selfCPU(), srv.CPUTime()
				pr, pp, pn := ingestCount(b, pg.AppendEvents, pin.ID, writers, batch, round, fmt.Sprint("p", r))
				c2, s2 := selfCPU(), srv.CPUTime()
				bc := float64((c1 - c0).Microseconds()) / float64(max(bn, 1))
				pc := float64((c2 - c1 + s2 - s1).Microseconds()) / float64(max(pn, 1))
				boltCPU, pgCPU, cpuRatios = append(boltCPU, bc), append(pgCPU, pc), append(cpuRatios, bc/pc)
				boltRates, pgRates = append(boltRates, br), append(pgRates, pr)
				boltP99, pgP99 = append(boltP99, float64(bp.Microseconds())/1000), append(pgP99, float64(pp.Microseconds())/1000)
				ratios = append(ratios, pr/br)
				b.Logf("round %d: PostgreSQL client %.0f µs, server %.0f µs per event", r+1,
					float64((c2-c1).Microseconds())/float64(max(pn, 1)), float64((s2-s1).Microseconds())/float64(max(pn, 1)))
				b.Logf("round %d: bbolt %.0f events/s p99 %v; PostgreSQL %.0f events/s p99 %v; ratio %.2f", r+1, br, bp, pr, pp, pr/br)
			}
			fmt.Printf("ingest batch=%d writers=%d: bbolt %.0f events/s (p99 %.1f ms), PostgreSQL %.0f events/s (p99 %.1f ms), ratio %.2f (rounds %.2f); "+
				"CPU per event (client and server): bbolt %.0f µs, PostgreSQL %.0f µs, ratio %.2f; load average %s\n",
				batch, writers, median(boltRates), median(boltP99), median(pgRates), median(pgP99), median(ratios), ratios,
				median(boltCPU), median(pgCPU), median(cpuRatios), loadAvg())
			b.ReportMetric(median(ratios), "pg/bbolt")
			b.ReportMetric(median(pgRates), "pg-events/s")
			b.ReportMetric(median(pgP99), "pg-p99-ms")
		})
	}
}

// BenchmarkIngestGrouping measures what sharing one transaction among
// AppendEvents calls that arrive together gains: PostgreSQL ingest of one
// event a call from 16 writers, with and without grouping, alternating
// rounds.
//
//	go test -run '^$' -bench IngestGrouping -benchtime 1x ./store/postgres/
func BenchmarkIngestGrouping(b *testing.B) {
	srv := pgtest.NewServer(b, pgtest.Durable())
	const writers, rounds, round = 16, 3, 2 * time.Second
	pg, err := postgres.Open(context.Background(), srv.NewDatabase(b), postgres.WithMaxConns(8))
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Close()
	defer postgres.SetGrouping(true)
	in, err := pg.CreateInstance(context.Background(), benchInstance(b))
	if err != nil {
		b.Fatal(err)
	}
	var on, off, ratios []float64
	var perGroup []float64
	for r := range rounds {
		postgres.SetGrouping(true)
		g0, q0 := postgres.GroupStats(pg)
		a, _ := ingestRun(b, pg.AppendEvents, in.ID, writers, 1, round, fmt.Sprint("g", r))
		g1, q1 := postgres.GroupStats(pg)
		postgres.SetGrouping(false)
		z, _ := ingestRun(b, pg.AppendEvents, in.ID, writers, 1, round, fmt.Sprint("n", r))
		on, off, ratios = append(on, a), append(off, z), append(ratios, a/z)
		perGroup = append(perGroup, float64(q1-q0)/float64(max(g1-g0, 1)))
	}
	fmt.Printf("grouping: %.0f events/s with groups (%.1f calls a transaction), %.0f without, %.2fx (rounds %.2f); load average %s\n",
		median(on), median(perGroup), median(off), median(ratios), ratios, loadAvg())
	b.ReportMetric(median(ratios), "gain")
}

// BenchmarkReplicasIngest has three stores on one database ingest
// together (as three replicas would) and prints their total events/s.
//
//	go test -run '^$' -bench ReplicasIngest -benchtime 1x ./store/postgres/
func BenchmarkReplicasIngest(b *testing.B) {
	srv := pgtest.NewServer(b, pgtest.Durable())
	url := srv.NewDatabase(b)
	const replicas, writers, d = 3, 8, 3 * time.Second
	var stores []*postgres.Store
	for range replicas {
		s, err := postgres.Open(context.Background(), url, postgres.WithMaxConns(4))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	in, err := stores[0].CreateInstance(context.Background(), benchInstance(b))
	if err != nil {
		b.Fatal(err)
	}
	single, _ := ingestRun(b, stores[0].AppendEvents, in.ID, replicas*writers, 1, d, "single")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total float64
		p99s  []time.Duration
	)
	for i, s := range stores {
		wg.Go(func() {
			rate, p99 := ingestRun(b, s.AppendEvents, in.ID, writers, 1, d, fmt.Sprint("r", i))
			mu.Lock()
			total += rate
			p99s = append(p99s, p99)
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Printf("replicas: %d stores x %d writers, batch 1: %.0f events/s in total (p99 per store %v); one store with %d writers: %.0f events/s; load average %s\n",
		replicas, writers, total, p99s, replicas*writers, single, loadAvg())
	b.ReportMetric(total, "events/s")
}

// BenchmarkLeaseTakeover has one store hold a poll lease, renewing it,
// then stop renewing (as a killed replica does); another store claims
// every 50 ms. It prints the time from the last renewal to the takeover
// (target: at most the lease time plus 1 s).
//
//	go test -run '^$' -bench LeaseTakeover -benchtime 1x ./store/postgres/
func BenchmarkLeaseTakeover(b *testing.B) {
	url := pgtest.URL(b)
	ctx := context.Background()
	const lease = time.Second
	holder, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	taker, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer taker.Close()
	var takeovers []time.Duration
	for i := range 3 {
		res := fmt.Sprint("r", i)
		if err := holder.Schedule(ctx, postgres.KindPoll, int64(i+1), res, time.Now()); err != nil {
			b.Fatal(err)
		}
		ls, err := holder.Claim(ctx, postgres.KindPoll, "holder", lease, 1)
		if err != nil || len(ls) != 1 {
			b.Fatalf("claim: %v %v", ls, err)
		}
		l := ls[0]
		for range 3 {
			time.Sleep(lease / 3)
			if l, err = holder.Renew(ctx, l, lease); err != nil {
				b.Fatal(err)
			}
		}
		stopped := time.Now() // the holder dies here: no more renewals
		for {
			got, err := taker.Claim(ctx, postgres.KindPoll, "taker", lease, 1)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) == 1 {
				takeovers = append(takeovers, time.Since(stopped))
				if err := taker.Release(ctx, got[0], time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	holder.Close()
	worst := slices.Max(takeovers)
	fmt.Printf("lease takeover with a %v lease: %v (worst %v; target <= %v); load average %s\n", lease, takeovers, worst, lease+time.Second, loadAvg())
	b.ReportMetric(worst.Seconds(), "takeover-s")
}

// BenchmarkPollCycle stores one poll cycle of 100,000 changed records, a
// page of 100 at a time as the poller commits them, on bbolt and on
// PostgreSQL in the same run, and prints records/s and the heap in use
// after the cycle (after a GC) against before it: it must stay flat, as
// neither store keeps polled records' dedupe keys in memory.
//
//	go test -run '^$' -bench PollCycle -benchtime 1x ./store/postgres/
func BenchmarkPollCycle(b *testing.B) {
	srv := pgtest.NewServer(b, pgtest.Durable())
	const records, page = 100_000, 100
	ctx := context.Background()
	bolt, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bolt.Close()
	pg, err := postgres.Open(ctx, srv.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Close()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	body := json.RawMessage(`{"id":1,"name":"` + strings.Repeat("y", 400) + `","update_time":"2024-03-01 12:00:00"}`)
	for _, st := range []struct {
		name string
		fn   appender
	}{{"bbolt", bolt.AppendEvents}, {"PostgreSQL", pg.AppendEvents}} {
		before := heap()
		start := time.Now()
		date := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		for i := 0; i < records; i += page {
			events := make([]model.Event, page)
			for j := range events {
				events[j] = model.Event{InstanceID: 99, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourcePolling,
					ObjectType: "contacts", ObjectID: fmt.Sprint(i + j), EventType: model.Updated, Date: date, Raw: body}
			}
			if _, err := st.fn(ctx, events); err != nil {
				b.Fatal(err)
			}
		}
		took := time.Since(start)
		after := heap()
		fmt.Printf("poll cycle on %s: %d records in pages of %d: %.0f records/s; heap in use %.1f MB before, %.1f MB after; load average %s\n",
			st.name, records, page, records/took.Seconds(), float64(before)/1e6, float64(after)/1e6, loadAvg())
	}
}
