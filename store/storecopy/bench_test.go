package storecopy_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/eventdesk/eventdesk/store/storecopy"
)

// BenchmarkCopyToPostgres copies 50,000 webhook events of about 1 KB each
// (with their dedupe keys) from a bbolt file to a durable PostgreSQL (fsync
// on) and reports events/s:
//
//	go test -run '^$' -bench CopyToPostgres -benchtime 3x ./store/storecopy/
func BenchmarkCopyToPostgres(b *testing.B) {
	const events = 50_000
	srv := pgtest.NewServer(b, pgtest.Durable())
	src, err := store.Open(filepath.Join(b.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := b.Context()
	name := "bench"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &name,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, time.Now().UTC())
	if err != nil {
		b.Fatal(err)
	}
	if in, err = src.CreateInstance(ctx, in); err != nil {
		b.Fatal(err)
	}
	pad := strings.Repeat("x", 900)
	for i := 0; i < events; i += 500 {
		evs := make([]model.Event, 0, 500)
		for j := i; j < i+500; j++ {
			evs = append(evs, model.Event{InstanceID: in.ID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
				ObjectType: "deals", ObjectID: fmt.Sprint(j), EventType: model.Updated, VendorEventID: fmt.Sprint("v", j),
				Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"title":"deal %d","notes":%q}`, j, j, pad))})
		}
		if _, err := src.AppendEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		dst, err := postgres.Open(ctx, srv.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rep, err := storecopy.Copy(ctx, src, dst, storecopy.Options{})
		total += time.Since(start)
		b.StopTimer()
		dst.Close()
		if err != nil {
			b.Fatal(err)
		}
		if bad := rep.Mismatched(); len(bad) > 0 || rep.Copied(store.TableEvents) != events {
			b.Fatalf("copy: %+v", rep.Counts)
		}
		b.StartTimer()
	}
	rate := float64(events*b.N) / total.Seconds()
	b.ReportMetric(rate, "events/s")
	b.Logf("copied %d events of ~1 KB bbolt → PostgreSQL (fsync on) in %v each: %.0f events/s", events, total/time.Duration(b.N), rate)
}
