package dispatch_test

// Benchmarks; run both once each (each run is a whole scenario):
//
//	go test ./provider/dispatch/ -run '^$' -bench 'BenchmarkDispatch|BenchmarkIdleCPU' -benchtime=1x
//
// BenchmarkDispatch: notifications per second from a pre-filled outbox
// (fsync'd store, attempts recorded as in production) to a local receiver
// that answers 200 at once; over 50 instances and for a single instance
// (8 in flight, the default concurrency), against a plain Go HTTP client
// posting the same bodies to the same receiver with as many requests in
// flight, in the same run. Target: ratio ≥ 0.5. It also prints the
// process's CPU time per notification and per plain post (the receiver runs
// in the same process, so both include it): on a machine shared with other
// work, where wall-clock rates swing from run to run, the CPU ratio is the
// figure that holds still.
//
// BenchmarkIdleCPU: process CPU time (user+sys, getrusage) over 10 idle
// seconds with 1,000 notifications each waiting for a retry hours away.
// Target: near zero (< 50 ms).

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
)

// prefill creates instances posting to callback and total notifications
// spread over them (one event, one notification each), in a store it closes
// again; the returned path is opened fsync'd by the caller.
func prefill(b *testing.B, instances, total int, callback string) (string, []model.Instance) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "eventdesk.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ins := make([]model.Instance, instances)
	for i := range ins {
		ins[i] = newInstance(b, st, fmt.Sprint("bench-", i), callback, nil)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				e := hookEvent(ins[i%instances].ID, fmt.Sprint("bench-", i), i)
				if _, err := st.AppendEvents(b.Context(), []model.Event{e}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p, _, _ := st.NotificationCounts(b.Context()); p != total {
		b.Fatalf("prefilled %d notifications, want %d", p, total)
	}
	return path, ins
}

func BenchmarkDispatch(b *testing.B) {
	for _, c := range []struct{ instances, total int }{{50, 20000}, {1, 10000}} {
		b.Run(fmt.Sprintf("instances=%d", c.instances), func(b *testing.B) {
			var elapsed, baseElapsed, cpu, baseCPUs time.Duration
			var count int
			for range b.N {
				b.StopTimer()
				var got atomic.Int64
				var counting atomic.Bool // the dispatcher's turn
				done := make(chan struct{})
				total := int64(c.total)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					if counting.Load() && got.Add(1) == total {
						close(done)
					}
				}))
				path, ins := prefill(b, c.instances, c.total, srv.URL)
				st, err := store.Open(path, store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				// The baseline: a plain Go client posting the same bodies to
				// the same receiver with as many requests in flight as the
				// dispatcher may have (8 per instance, 128 in all).
				var bodies [][]byte
				for _, in := range ins {
					list, err := st.PendingNotifications(b.Context(), in.ID, 0, c.total)
					if err != nil {
						b.Fatal(err)
					}
					for _, n := range list {
						bodies = append(bodies, n.Body)
					}
				}
				inFlight := min(c.instances*model.DefaultConcurrency, dispatch.DefaultMaxInFlight)
				// The baseline runs before and after the dispatcher, and
				// their mean is compared: a shared machine drifts.
				c0 := cpuTime()
				base := baseline(b, srv.URL, bodies, inFlight)
				baseCPU := cpuTime() - c0
				counting.Store(true)

				b.StartTimer()
				c0 = cpuTime()
				t0 := time.Now()
				d := dispatch.Start(st, dispatch.Options{Policy: fastPolicy})
				select {
				case <-done:
				case <-time.After(5 * time.Minute):
					b.Fatalf("only %d of %d delivered", got.Load(), total)
				}
				sent := time.Since(t0)
				waitStore(b, st, time.Minute, "all recorded", func() bool {
					p, _, _ := st.NotificationCounts(b.Context())
					return p == 0
				})
				recorded := time.Since(t0)
				dispCPU := cpuTime() - c0
				b.StopTimer()
				d.Stop()
				st.Close()
				counting.Store(false)
				c0 = cpuTime()
				base = (base + baseline(b, srv.URL, bodies, inFlight)) / 2
				baseCPU = (baseCPU + cpuTime() - c0) / 2
				srv.Close()
				if n := got.Load(); n != total {
					b.Errorf("receiver got %d requests, want %d (no retries expected)", n, total)
				}
				elapsed += sent
				baseElapsed += base
				count += c.total
				cpu += dispCPU
				baseCPUs += baseCPU
				perN := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(c.total) }
				fmt.Printf("BenchmarkDispatch: %d instances: process CPU per notification (receiver included) %.1f µs, per plain post %.1f µs; CPU ratio %.2f\n",
					c.instances, perN(dispCPU), perN(baseCPU), baseCPU.Seconds()/dispCPU.Seconds())
				fmt.Printf("BenchmarkDispatch: %d instances: %d notifications delivered in %v = %.0f/s (all attempts recorded after %v); plain Go client, %d in flight (mean of a run before and one after): %v = %.0f/s; ratio %.2f\n",
					c.instances, c.total, sent.Round(time.Millisecond), float64(c.total)/sent.Seconds(), recorded.Round(time.Millisecond),
					inFlight, base.Round(time.Millisecond), float64(c.total)/base.Seconds(), base.Seconds()/sent.Seconds())
			}
			rate := float64(count) / elapsed.Seconds()
			b.ReportMetric(rate, "notifications/s")
			b.ReportMetric(float64(count)/baseElapsed.Seconds(), "baseline-posts/s")
			b.ReportMetric(baseElapsed.Seconds()/elapsed.Seconds(), "ratio")
			b.ReportMetric(baseCPUs.Seconds()/cpu.Seconds(), "cpu-ratio")
		})
	}
}

// baseline posts every body once to url with inFlight requests at a time
// and returns how long it took.
func baseline(b *testing.B, url string, bodies [][]byte, inFlight int) time.Duration {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * inFlight, MaxIdleConnsPerHost: inFlight}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkIdleCPU(b *testing.B) {
	const waiting, idle = 1000, 10 * time.Second
	for range b.N {
		b.StopTimer()
		var got atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		// One notification per instance: every one of them has failed once
		// and waits for its own retry, 4 h away.
		path, _ := prefill(b, waiting, waiting, srv.URL)
		st, err := store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		d := dispatch.Start(st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Hour, MaxRetries: 9, Jitter: 0.2}})
		waitStore(b, st, time.Minute, "every notification tried once", func() bool {
			list, _, _ := st.Notifications(b.Context(), store.NotificationFilter{State: model.StatePending}, 2*waiting)
			n := 0
			for _, x := range list {
				if x.Attempts == 1 && x.NextAttempt.Sub(time.Now()) > time.Hour {
					n++
				}
			}
			return n == waiting
		})
		b.StartTimer()
		c0 := cpuTime()
		time.Sleep(idle) // the measurement window itself
		cpu := cpuTime() - c0
		b.StopTimer()
		if n := got.Load(); n != waiting {
			b.Errorf("receiver got %d requests, want %d: something retried early", n, waiting)
		}
		d.Stop()
		st.Close()
		srv.Close()
		b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/10s-idle")
		fmt.Printf("BenchmarkIdleCPU: %d notifications waiting for a retry hours away: %v CPU (user+sys) over %v idle\n",
			waiting, cpu.Round(time.Microsecond), idle)
	}
}
