package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// benchSeconds is how long the live-feed benchmark posts (default 10 s;
// EVENTDESK_BENCH_SECONDS shortens it).
func benchSeconds() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("EVENTDESK_BENCH_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 10 * time.Second
}

// consoleRefresh is the console's refresh throttle after a change signal.
const consoleRefresh = 250 * time.Millisecond

func pipedriveBody(n int) []byte {
	return fmt.Appendf(nil, `{"data":{"id":%d,"name":"Person %d","update_time":"2026-03-14T15:18:35Z","add_time":"2026-03-14T13:18:55Z"},`+
		`"previous":{"name":"P"},"meta":{"action":"change","entity_id":"%d","entity":"person","id":"bench-%d-%d","timestamp":"2026-03-14T15:18:35.616Z","type":"general","version":"2.0"}}`,
		n, n, n, n, time.Now().UnixNano())
}

// BenchmarkAttachedLiveFeed posts Pipedrive webhooks to a running engine at
// 2,000/s and follows them as an attached console does: the change
// stream's signal, the console's 250 ms refresh throttle, then the events
// after the last one shown, read over the API. It prints how many were
// seen and the lag from each webhook's 2xx to its arrival in the feed.
//
//	go test -run '^$' -bench BenchmarkAttachedLiveFeed -benchtime 1x ./provider/engine/
func BenchmarkAttachedLiveFeed(b *testing.B) {
	const rate = 2000
	dur := benchSeconds()
	for range b.N {
		st, err := store.Open(filepath.Join(b.TempDir(), "e.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		e, err := engine.Start(b.Context(), st, engine.Options{Listen: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: strPtr("bench"),
			Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if in, err = st.CreateInstance(b.Context(), in); err != nil {
			b.Fatal(err)
		}
		hook := model.WebhookURL("http://"+e.Addr, in.ElementKey, in.ID)
		remote, err := backend.NewRemote(backend.RemoteOptions{URL: "http://" + e.Addr, User: e.Secrets.User, Organization: e.Secrets.Organization})
		if err != nil {
			b.Fatal(err)
		}

		var mu sync.Mutex
		acked := map[string]time.Time{}
		var lags []time.Duration
		seen := 0
		ctx, cancel := context.WithCancel(context.Background())
		sub, err := remote.Subscribe(ctx)
		if err != nil {
			b.Fatal(err)
		}
		followed := make(chan struct{})
		go func() {
			defer close(followed)
			last, _ := remote.LastEventID(ctx)
			var shown time.Time
			for range sub.C() {
				if wait := consoleRefresh - time.Since(shown); wait > 0 {
					time.Sleep(wait)
				}
				shown = time.Now()
				for {
					evs, err := remote.EventsAfter(ctx, last, 500)
					if err != nil {
						return
					}
					now := time.Now()
					mu.Lock()
					for _, ev := range evs {
						last = ev.Seq()
						seen++
						if t, ok := acked[ev.ObjectID]; ok {
							lags = append(lags, now.Sub(t))
						}
					}
					mu.Unlock()
					if len(evs) < 500 {
						break
					}
				}
			}
		}()

		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		jobs := make(chan int, rate)
		var wg sync.WaitGroup
		var failed int
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range jobs {
					resp, err := hc.Post(hook, "application/json", bytes.NewReader(pipedriveBody(n)))
					if err != nil {
						mu.Lock()
						failed++
						mu.Unlock()
						continue
					}
					resp.Body.Close()
					mu.Lock()
					if resp.StatusCode == http.StatusOK {
						acked[strconv.Itoa(n)] = time.Now()
					} else {
						failed++
					}
					mu.Unlock()
				}
			}()
		}
		start := time.Now()
		total := int(dur.Seconds()) * rate
		for n := 1; n <= total; n++ {
			// Paced: request n leaves at start + n/rate.
			if d := time.Until(start.Add(time.Duration(n) * time.Second / rate)); d > 0 {
				time.Sleep(d)
			}
			jobs <- n
		}
		close(jobs)
		wg.Wait()
		sent := time.Since(start)
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			done := seen >= len(acked)
			mu.Unlock()
			if done || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		sub.Close()
		<-followed
		e.Stop()
		mu.Lock()
		slices.Sort(lags)
		pct := func(p float64) time.Duration {
			if len(lags) == 0 {
				return 0
			}
			return lags[min(len(lags)-1, int(float64(len(lags))*p))]
		}
		b.ReportMetric(float64(pct(0.99).Milliseconds()), "ms-p99-lag")
		fmt.Printf("AttachedLiveFeed: %d webhooks in %s (%.0f/s), %d answered 2xx, %d failed; the attached feed showed %d; lag 2xx→feed p50 %s p99 %s max %s (with the console's %s refresh throttle)\n",
			total, sent.Round(time.Millisecond), float64(total)/sent.Seconds(), len(acked), failed, seen,
			pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond), consoleRefresh)
		mu.Unlock()
	}
}
