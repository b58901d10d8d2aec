package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// benchEvents is the size of the store BenchmarkLiveFeed reads.
const benchEvents = 1_000_000

// BenchmarkLiveFeed measures the live feed over a store of a million
// events: time to the first frame of the feed, the feed's View time,
// paging older rows, and the process's RSS. It prints its figures; run it
// with go test ./ui -run '^$' -bench LiveFeed -benchtime 1x.
func BenchmarkLiveFeed(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "eventdesk.db"), store.Options{NoSync: true, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	fillStore(b, st, benchEvents)
	fmt.Printf("LiveFeed: filled %d events in %s\n", benchEvents, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		h := newHarness(b, st, 120, 40)
		h.key(":")
		h.typeText("events")
		h.key("enter")
		frame := h.view()
		first := time.Since(t0)
		s := h.top().(*eventsScreen)
		if len(s.rows) == 0 || !strings.Contains(frame, "following") {
			b.Fatalf("no feed:\n%s", frame)
		}

		const views = 200
		t1 := time.Now()
		for j := 0; j < views; j++ {
			_ = h.view()
		}
		perView := time.Since(t1) / views

		// Page through 2,000 rows of history: the window stays bounded.
		t2 := time.Now()
		pages := 0
		for s.rows[s.table.cursor].Seq() > benchEvents-2000 {
			h.key("pgdown")
			pages++
		}
		scroll := time.Since(t2)
		if len(s.rows) > feedWindow {
			b.Fatalf("window holds %d rows", len(s.rows))
		}

		// A live append while following.
		h.key("f")
		t3 := time.Now()
		if _, err := st.AppendEvents(b.Context(), benchBatch(0, 10, benchEvents+1)); err != nil {
			b.Fatal(err)
		}
		h.send(tea.Msg(refreshDueMsg{}))
		live := time.Since(t3)

		rss := rssKB()
		b.ReportMetric(float64(first.Microseconds())/1000, "ms/first-frame")
		b.ReportMetric(float64(perView.Microseconds()), "µs/view")
		b.ReportMetric(float64(rss)/1024, "MB-RSS")
		fmt.Printf("LiveFeed: first frame %s · View %s · %d pages of history in %s · live append+refresh %s · window %d rows · RSS %d MB\n",
			first.Round(time.Microsecond), perView.Round(time.Microsecond), pages, scroll.Round(time.Millisecond),
			live.Round(time.Microsecond), len(s.rows), rss/1024)
	}
}

// fillStore appends n webhook events in large transactions, half of them
// for an instance with a callback so notifications exist too.
func fillStore(b *testing.B, st *store.Store, n int) {
	b.Helper()
	mustInstance(b, st, "closeio", "Close webhooks", map[string]string{model.KeyCloseAPIKey: "k"})
	mustInstance(b, st, "pipedrive", "Pipedrive", map[string]string{model.KeyPipedriveToken: "t", model.KeyEventsEnabled: "true",
		model.KeyCallbackURL: "https://app.example.com/cb"})
	const batch = 5000
	for i := 0; i < n; i += batch {
		if _, err := st.AppendEvents(b.Context(), benchBatch(i, min(batch, n-i), 0)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBatch(from, n, idBase int) []model.Event {
	evs := make([]model.Event, n)
	for j := range evs {
		i := from + j + idBase
		inst := int64(1 + i%2)
		evs[j] = model.Event{InstanceID: inst, ElementKey: "closeio", HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "leads", ObjectID: "lead_" + strconv.Itoa(i), EventType: model.Updated,
			ReceivedAt: testNow.Add(time.Duration(i) * time.Millisecond),
			Raw:        json.RawMessage(`{"event":{"id":"ev_` + strconv.Itoa(i) + `","object_type":"lead","action":"updated","data":{"name":"Acme ` + strconv.Itoa(i) + `"}}}`)}
	}
	return evs
}

// rssKB is the resident set size from /proc, or the Go heap elsewhere.
func rssKB() int {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int(m.HeapInuse / 1024)
}
