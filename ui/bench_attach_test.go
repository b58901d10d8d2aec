package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
)

// BenchmarkFirstFrameAttached measures the console's first frames over a
// store of a million events, attached over the API (a loopback server)
// next to the engine in the same process: home with its counts, then the
// live feed. It prints its figures:
//
//	go test ./ui -run '^$' -bench FirstFrameAttached -benchtime 3x
func BenchmarkFirstFrameAttached(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	fillStore(b, st, benchEvents)
	fmt.Printf("FirstFrameAttached: filled %d events in %s\n", benchEvents, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for range b.N {
		for _, kind := range backendKinds {
			t0 := time.Now()
			h := newHarnessOn(b, kind, st, 120, 40)
			home := h.view()
			first := time.Since(t0)
			if !strings.Contains(home, "Close webhooks") {
				b.Fatalf("no home:\n%s", home)
			}
			t1 := time.Now()
			h.key(":")
			h.typeText("events")
			h.key("enter")
			feed := h.view()
			feedFirst := time.Since(t1)
			if !strings.Contains(feed, "following") {
				b.Fatalf("no feed:\n%s", feed)
			}
			if kind == "remote" {
				b.ReportMetric(float64(first.Microseconds())/1000, "ms/first-frame-attached")
			}
			fmt.Printf("FirstFrameAttached: %-6s home (instances, counts, status bar) %s · live feed %s\n", kind, first.Round(time.Microsecond), feedFirst.Round(time.Microsecond))
		}
	}
}
