package storecopy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/eventdesk/eventdesk/store/storecopy"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// both is what a copy test needs of a store at either end.
type both interface {
	storecopy.Source
	storecopy.Destination
}

func openBolt(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.URL(t), postgres.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill gives a bbolt store a deployment through ordinary operations: an
// instance with a callback, n events (webhook and polled), their
// notifications (one delivered, one failing, one dead, the rest pending),
// poll state, settings with the API secrets, and a rejected request.
func fill(t *testing.T, s *store.Store, n int) {
	t.Helper()
	ctx := t.Context()
	name := "cb"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &name,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "polling"
	in.Configuration[model.KeyCallbackURL] = "http://127.0.0.1:1/cb"
	if in, err = s.CreateInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	evs := make([]model.Event, 0, n)
	for i := range n {
		e := model.Event{InstanceID: in.ID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "contacts", ObjectID: fmt.Sprint(i), EventType: model.Updated, VendorEventID: fmt.Sprint("v", i),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))}
		if i%3 == 0 {
			e.Source, e.VendorEventID, e.Date, e.PollDate = model.SourcePolling, "", now.Add(-time.Hour), now
		}
		evs = append(evs, e)
	}
	if _, err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempts(ctx, []store.AttemptRecord{
		{Attempt: model.Attempt{NotificationID: "1", N: 1, Time: now, Status: 200}, State: model.StateDelivered},
		{Attempt: model.Attempt{NotificationID: "2", N: 1, Time: now, Status: 500}, State: model.StatePending, NextAttempt: now.Add(time.Minute)},
		{Attempt: model.Attempt{NotificationID: "3", N: 1, Time: now, Status: 400}, State: model.StateDead},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPollStatus(ctx, model.PollStatus{InstanceID: in.ID, Resource: "contacts", Checkpoint: now.Add(-time.Minute), Records: 4}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, store.SettingPublicURL, "https://hooks.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APISecrets(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRejected(ctx, store.Rejected{Time: now, Status: 401, Reason: "bad signature"}); err != nil {
		t.Fatal(err)
	}
}

func counts(t *testing.T, c storecopy.Counter) map[string]int {
	t.Helper()
	m, err := c.TableCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ends are the destinations a copy is tested into.
func ends(t *testing.T) map[string]func(*testing.T) both {
	return map[string]func(*testing.T) both{
		"bbolt":      func(t *testing.T) both { return openBolt(t) },
		"PostgreSQL": func(t *testing.T) both { return openPostgres(t) },
	}
}

// A copy into an empty store moves every table; a second copy into it is
// refused unless forced, and a forced one changes nothing.
func TestCopyRefusesANonEmptyDestination(t *testing.T) {
	for name, open := range ends(t) {
		t.Run(name, func(t *testing.T) {
			src := openBolt(t)
			fill(t, src, 25)
			dst := open(t)
			rep, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{Batch: 7})
			if err != nil {
				t.Fatal(err)
			}
			if bad := rep.Mismatched(); len(bad) > 0 {
				t.Fatalf("counts differ for %v: %+v", bad, rep.Counts)
			}
			want := counts(t, src)
			for _, table := range storecopy.Tables {
				if table != store.TableDedupeKeys && want[table] == 0 {
					t.Errorf("the source has no %s: the test copies nothing of it", table)
				}
			}
			if rep.Copied(store.TableEvents) != 25 {
				t.Errorf("Copied(events) = %d, want 25", rep.Copied(store.TableEvents))
			}
			_, err = storecopy.Copy(t.Context(), src, dst, storecopy.Options{})
			if !errors.Is(err, storecopy.ErrNotEmpty) {
				t.Fatalf("second copy = %v, want ErrNotEmpty", err)
			}
			rep, err = storecopy.Copy(t.Context(), src, dst, storecopy.Options{Force: true})
			if err != nil || len(rep.Mismatched()) > 0 {
				t.Fatalf("forced copy = %+v, %v", rep, err)
			}
			if got := counts(t, dst); !reflect.DeepEqual(got, want) {
				t.Errorf("after a forced copy the destination counts %v, want %v", got, want)
			}
		})
	}
}

// A copy stopped after a few batches leaves part of the deployment; the
// same copy run again with Force completes it, record for record.
func TestCopyCompletesAfterAnInterruption(t *testing.T) {
	for name, open := range ends(t) {
		t.Run(name, func(t *testing.T) {
			src := openBolt(t)
			fill(t, src, 100)
			dst := open(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			batches := 0
			_, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Batch: 10, Progress: func(table string, done, total int) {
				if table == store.TableEvents {
					if batches++; batches == 3 {
						cancel()
					}
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted copy = %v, want context.Canceled", err)
			}
			part := counts(t, dst)
			if part[store.TableEvents] != 30 || part[store.TableNotifications] != 0 {
				t.Fatalf("after the interruption the destination counts %v, want 30 events and no notifications", part)
			}
			if _, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{Batch: 10}); !errors.Is(err, storecopy.ErrNotEmpty) {
				t.Fatalf("unforced rerun = %v, want ErrNotEmpty", err)
			}
			rep, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{Batch: 10, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			if bad := rep.Mismatched(); len(bad) > 0 {
				t.Fatalf("counts differ after the rerun for %v: %+v", bad, rep.Counts)
			}
			a, err := src.EventsAfter(t.Context(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			b, err := dst.EventsAfter(t.Context(), 0, 1000)
			if err != nil || len(a) != len(b) {
				t.Fatalf("destination has %d events (%v), want %d", len(b), err, len(a))
			}
			for i := range a {
				if a[i].ID != b[i].ID || a[i].ObjectID != b[i].ObjectID || string(a[i].Raw) != string(b[i].Raw) {
					t.Fatalf("event %d differs: %+v vs %+v", i, a[i], b[i])
				}
			}
			// New work numbers after the copied records.
			res, err := dst.(storetestAppender).AppendEvents(t.Context(), []model.Event{{InstanceID: 1, Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "x", VendorEventID: "new"}})
			if err != nil || len(res.Stored) != 1 || res.Stored[0].ID != "101" {
				t.Errorf("append after the copy = %+v, %v; want event 101", res, err)
			}
		})
	}
}

// storetestAppender is the ordinary write a copied store takes next.
type storetestAppender interface {
	AppendEvents(ctx context.Context, events []model.Event) (store.AppendResult, error)
}

func TestReportMismatched(t *testing.T) {
	r := storecopy.Report{Counts: []storecopy.Count{{Table: "events", Source: 3, Destination: 3}, {Table: "settings", Source: 2, Destination: 1}}}
	if got := r.Mismatched(); !reflect.DeepEqual(got, []string{"settings"}) {
		t.Errorf("Mismatched = %v, want [settings]", got)
	}
}

// A deployment copied to PostgreSQL copies back to a new bbolt file whole.
func TestCopyBackFromPostgres(t *testing.T) {
	src := openBolt(t)
	fill(t, src, 40)
	pg := openPostgres(t)
	if _, err := storecopy.Copy(t.Context(), src, pg, storecopy.Options{Batch: 16}); err != nil {
		t.Fatal(err)
	}
	back := openBolt(t)
	rep, err := storecopy.Copy(t.Context(), pg, back, storecopy.Options{Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	if bad := rep.Mismatched(); len(bad) > 0 {
		t.Fatalf("counts differ for %v: %+v", bad, rep.Counts)
	}
	if got, want := counts(t, back), counts(t, src); !reflect.DeepEqual(got, want) {
		t.Errorf("copied back: %v, want the original's %v", got, want)
	}
}
