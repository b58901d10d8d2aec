package store

import (
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

// BenchmarkAppendEventsParallel measures durable (fsync'd) webhook event
// throughput with many concurrent writers, one event per call, as the
// receiver produces them; the group writer batches them into shared commits.
func BenchmarkAppendEventsParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "eventdesk.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			e := webhookEvent(i%10+1, "v"+strconv.FormatInt(i, 10), strconv.FormatInt(i, 10))
			res, err := s.AppendEvents([]model.Event{e})
			if err != nil {
				b.Error(err)
				return
			}
			if len(res.Stored) != 1 {
				b.Errorf("stored %d", len(res.Stored))
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
