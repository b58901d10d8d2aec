package provider

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// benchEvents is the stored events of the aggregate benchmarks
// (EVENTDESK_BENCH_EVENTS overrides the million).
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("EVENTDESK_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// bigStore holds instances instances and events events spread over them.
func bigStore(b *testing.B, instances, events int) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "e.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for i := range instances {
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: aggPtr("P" + strconv.Itoa(i)),
			Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.CreateInstance(b.Context(), in); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	const batch = 5000
	evs := make([]model.Event, 0, batch)
	for n := 0; n < events; {
		evs = evs[:0]
		for range min(batch, events-n) {
			n++
			evs = append(evs, model.Event{InstanceID: int64(n%instances + 1), Source: model.SourcePolling, ObjectType: "deals",
				ObjectID: strconv.Itoa(n), EventType: model.Updated, Raw: json.RawMessage(`{"id":1,"title":"a deal of some size","value":42}`)})
		}
		if _, err := st.AppendEvents(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d events over %d instances in %v", events, instances, time.Since(start).Round(time.Millisecond))
	return st
}

// BenchmarkInstancesRefresh is the engine's cost of one refresh of the
// instances screen (50 instances, a million events): the aggregates,
// warm (a refresh after the first), next to the first computation and to
// counting the events by paging them, which the console did before.
//
//	go test -run '^$' -bench BenchmarkInstancesRefresh -benchtime 200x ./provider/
func BenchmarkInstancesRefresh(b *testing.B) {
	st := bigStore(b, 50, benchEvents())
	agg := NewAggregator(st)
	t0 := time.Now()
	if _, err := agg.Stats(b.Context(), time.Now()); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(t0)
	t0 = time.Now()
	paged := 0
	for id := int64(1); id <= 50; id++ {
		var before uint64
		for {
			evs, next, err := st.Events(b.Context(), model.EventFilter{InstanceID: id, Before: before}, 500)
			if err != nil {
				b.Fatal(err)
			}
			paged += len(evs)
			if next == 0 {
				break
			}
			before = next
		}
	}
	baseline := time.Since(t0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := agg.Stats(b.Context(), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	warm := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(warm.Microseconds())/1000, "ms/refresh")
	b.Logf("refresh (warm): %.2f ms; first: %.1f ms; counting %d events by paging them: %.0f ms", float64(warm.Microseconds())/1000,
		float64(cold.Microseconds())/1000, paged, float64(baseline.Microseconds())/1000)
}
