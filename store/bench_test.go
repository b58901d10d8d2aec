package store

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
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
			res, err := s.AppendEvents(b.Context(), []model.Event{e})
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

// BenchmarkOpenDedupe measures what remembering vendor ids costs at start
// and in memory: Open reads a dedupe log of one million entries (a million
// events in the last DedupeWindow) back into memory.
//
//	go test -run '^$' -bench BenchmarkOpenDedupe -benchtime 3x ./store/
func BenchmarkOpenDedupe(b *testing.B) {
	const entries = 1_000_000
	path := filepath.Join(b.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(DedupeWindow).UnixNano()
	for start := 0; start < entries; start += 100_000 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+100_000; i++ {
				if err := appendDedupeLog(tx, hashDedupeKey(fmt.Sprint("w\x001\x00", i)), exp); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	var heap float64
	b.ResetTimer()
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		if n := len(s.dedupe.seen); n != entries {
			b.Fatalf("%d keys in memory, want %d", n, entries)
		}
		s.Close()
	}
	b.ReportMetric(heap, "heap-MiB")
	fmt.Printf("open with %d dedupe keys: %v per open, %.1f MiB in memory\n", entries, b.Elapsed()/time.Duration(b.N), heap)
}

// BenchmarkEventsByInstance measures a first page of 50 events of one
// instance among 256,000: an instance with every tenth event, and a rare
// one with an event every 25,600 (the walk looks at every block).
//
//	go test -run '^$' -bench BenchmarkEventsByInstance ./store/
func BenchmarkEventsByInstance(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "eventdesk.db"), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const total = 256_000
	batch := make([]model.Event, 0, 1000)
	for i := range total {
		inst := int64(i%10 + 1)
		if i%25_600 == 0 {
			inst = 99
		}
		batch = append(batch, webhookEvent(inst, "", strconv.Itoa(i)))
		if len(batch) == cap(batch) {
			if _, err := s.AppendEvents(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, c := range []struct {
		name string
		inst int64
		want int
	}{{"common", 3, 50}, {"rare", 99, 10}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.Events(b.Context(), EventFilter{InstanceID: c.inst}, 50)
				if err != nil || len(page) != c.want {
					b.Fatalf("%d events, %v; want %d", len(page), err, c.want)
				}
			}
		})
	}
}

// BenchmarkColdOpen measures a start after a reboot: Open on a database of
// about EVENTDESK_BENCH_OPEN_MB megabytes (default 1024) of 1 KB webhook
// events, all inside the dedupe window, with the file's pages dropped from
// the page cache before each open. It compares keeping the free list in the
// file (read on open) with rebuilding it by scanning every page:
//
//	go test -run '^$' -bench BenchmarkColdOpen -benchtime 3x ./store/
func BenchmarkColdOpen(b *testing.B) {
	mb := 1024
	if v, err := strconv.Atoi(os.Getenv("EVENTDESK_BENCH_OPEN_MB")); err == nil && v > 0 {
		mb = v
	}
	raw := `{"pad":"` + strings.Repeat("x", 1000) + `","id":"`
	for _, scan := range []bool{false, true} {
		name := "freelist-kept"
		if scan {
			name = "freelist-scanned"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "eventdesk.db")
			s, err := Open(path, Options{NoSync: true, scanFreelist: scan})
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			for size := int64(0); size < int64(mb)<<20; {
				batch := make([]model.Event, 2000)
				for i := range batch {
					n++
					id := strconv.FormatInt(n, 10)
					batch[i] = webhookEvent(n%10+1, "v"+id, id)
					batch[i].Raw = []byte(raw + id + `"}`)
				}
				if _, err := s.AppendEvents(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
				if fi, err := os.Stat(path); err == nil {
					size = fi.Size()
				}
			}
			s.Close()
			fi, _ := os.Stat(path)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := dropFileCache(path); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				s, err := Open(path, Options{scanFreelist: scan})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.StopTimer()
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per.Milliseconds()), "open-ms")
			fmt.Printf("cold open, %s: %d events, %d MB file: %v per open\n", name, n, fi.Size()>>20, per)
		})
	}
}

// BenchmarkGrowthTail measures single-event appends from 64 writers while
// a fresh file grows to about 130 MB: as eventdesk opens it (1 GB first
// mapping, zeros written ahead of the last page), without the zeros, and
// with neither (bbolt's default mapping, remapped at each doubling). It
// prints appends per second, the process's CPU time per append and the
// latency percentiles:
//
//	go test -run '^$' -bench BenchmarkGrowthTail -benchtime 1x ./store/
func BenchmarkGrowthTail(b *testing.B) {
	raw := `{"pad":"` + strings.Repeat("x", 1000) + `","id":"`
	for _, v := range []struct {
		name string
		opts Options
	}{
		{"eventdesk", Options{}},
		{"no-reserve", Options{noReserve: true}},
		{"bbolt-default", Options{noReserve: true, smallMmap: true}},
	} {
		name := v.name
		b.Run(name, func(b *testing.B) {
			for range b.N {
				s, err := Open(filepath.Join(b.TempDir(), "eventdesk.db"), v.opts)
				if err != nil {
					b.Fatal(err)
				}
				const writers, each = 64, 1500
				lat := make([][]time.Duration, writers)
				cpu0, start := processCPU(), time.Now()
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							id := strconv.Itoa(w*each + i)
							e := webhookEvent(int64(w%10+1), "v"+id, id)
							e.Raw = []byte(raw + id + `"}`)
							t0 := time.Now()
							if _, err := s.AppendEvents(b.Context(), []model.Event{e}); err != nil {
								b.Error(err)
								return
							}
							lat[w] = append(lat[w], time.Since(t0))
						}
					})
				}
				wg.Wait()
				elapsed, cpu := time.Since(start), processCPU()-cpu0
				var all []time.Duration
				for _, l := range lat {
					all = append(all, l...)
				}
				slices.Sort(all)
				used, _ := s.UsedBytes(b.Context())
				s.Close()
				p := func(q float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*q))] }
				fmt.Printf("%s: %d appends, %d MB used: %.0f appends/s, CPU %.1f µs per append, p50 %v p99 %v p99.9 %v max %v\n", name, len(all), used>>20,
					float64(len(all))/elapsed.Seconds(), float64(cpu.Microseconds())/float64(len(all)), p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond), p(0.999).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
			}
		})
	}
}
