package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/eventdesk/eventdesk/store/storetest"
)

// copyAll copies a deployment with the readers and Put methods, a page at
// a time, as the copy command will.
func copyAll(ctx context.Context, from, to storetest.Backend) error {
	ins, err := from.Instances(ctx)
	if err != nil {
		return err
	}
	if err := to.PutInstances(ctx, ins); err != nil {
		return err
	}
	for after := uint64(0); ; {
		evs, err := from.EventsAfter(ctx, after, 100)
		if err != nil || len(evs) == 0 {
			if err != nil {
				return err
			}
			break
		}
		if err := to.PutEvents(ctx, evs); err != nil {
			return err
		}
		after = evs[len(evs)-1].Seq()
	}
	var recs []store.DedupeRecord
	if err := from.EachDedupeRecord(ctx, func(r store.DedupeRecord) error { recs = append(recs, r); return nil }); err != nil {
		return err
	}
	if err := to.PutDedupeKeys(ctx, recs); err != nil {
		return err
	}
	for after := uint64(0); ; {
		ns, err := from.NotificationsAfter(ctx, after, 100)
		if err != nil || len(ns) == 0 {
			if err != nil {
				return err
			}
			break
		}
		if err := to.PutNotifications(ctx, ns); err != nil {
			return err
		}
		for _, n := range ns {
			as, err := from.Attempts(ctx, n.ID)
			if err != nil {
				return err
			}
			if err := to.PutAttempts(ctx, as); err != nil {
				return err
			}
		}
		after = ns[len(ns)-1].Seq()
	}
	sts, err := from.AllPollStatuses(ctx)
	if err != nil {
		return err
	}
	if err := to.PutPollStatuses(ctx, sts); err != nil {
		return err
	}
	settings, err := from.Settings(ctx)
	if err != nil {
		return err
	}
	if err := to.PutSettings(ctx, settings); err != nil {
		return err
	}
	rj, _, err := from.RejectedList(ctx, 0, store.RejectedCapacity)
	if err != nil {
		return err
	}
	return to.PutRejected(ctx, rj)
}

// TestCopyBetweenBackends fills a bbolt store through ordinary
// operations, copies it to PostgreSQL and back, and finds the same
// deployment at each end.
func TestCopyBetweenBackends(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	openBolt := func() storetest.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src := openBolt()
	pg, err := postgres.Open(ctx, pgtest.URL(t), postgres.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })

	// The source: two instances, webhook and polled events, notifications
	// delivered, failing, dead and pending, poll state, settings, secrets
	// and rejected requests.
	n := "cb"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &n,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "polling"
	in.Configuration[model.KeyCallbackURL] = "http://127.0.0.1:1/cb"
	in, err = src.CreateInstance(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		e := model.Event{InstanceID: in.ID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "contacts", ObjectID: fmt.Sprint(i), EventType: model.Updated, VendorEventID: fmt.Sprint("v", i),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))}
		if i%3 == 0 {
			e.Source, e.VendorEventID, e.Date, e.PollDate = model.SourcePolling, "", now.Add(-time.Hour), now
		}
		if _, err := src.AppendEvents(ctx, []model.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	recs := []store.AttemptRecord{
		{Attempt: model.Attempt{NotificationID: "1", N: 1, Time: now, Status: 200, URL: "http://127.0.0.1:1/cb"}, State: model.StateDelivered},
		{Attempt: model.Attempt{NotificationID: "2", N: 1, Time: now, Status: 500, Error: "HTTP 500"}, State: model.StatePending, NextAttempt: now.Add(time.Minute)},
		{Attempt: model.Attempt{NotificationID: "3", N: 1, Time: now, Status: 400}, State: model.StateDead},
	}
	if err := src.RecordAttempts(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := src.SetPollStatus(ctx, model.PollStatus{InstanceID: in.ID, Resource: "contacts", Checkpoint: now.Add(-time.Minute), Records: 4}); err != nil {
		t.Fatal(err)
	}
	if err := src.SetSetting(ctx, store.SettingPublicURL, "https://hooks.example.com"); err != nil {
		t.Fatal(err)
	}
	secrets, err := src.APISecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.AddRejected(ctx, store.Rejected{Time: now, Status: 401, Reason: "bad signature"}); err != nil {
		t.Fatal(err)
	}

	if err := copyAll(ctx, src, pg); err != nil {
		t.Fatalf("copy to PostgreSQL: %v", err)
	}
	if err := copyAll(ctx, src, pg); err != nil {
		t.Fatalf("copy to PostgreSQL again (resumed): %v", err)
	}
	back := openBolt()
	if err := copyAll(ctx, pg, back); err != nil {
		t.Fatalf("copy back to bbolt: %v", err)
	}
	want, err := src.TableCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, dst := range map[string]storetest.Backend{"PostgreSQL": pg, "bbolt again": back} {
		got, err := dst.TableCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: TableCounts = %v, want %v", name, got, want)
		}
		sameDeployment(t, name, src, dst)
		if sec, err := dst.APISecrets(ctx); err != nil || sec != secrets {
			t.Errorf("%s: API secrets %+v (%v), want the source's", name, sec, err)
		}
		// A delivery the source stored is still a repeat; a new one is not.
		res, err := dst.AppendEvents(ctx, []model.Event{
			{InstanceID: in.ID, Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "1", VendorEventID: "v1"},
			{InstanceID: in.ID, Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "1", VendorEventID: "new"},
		})
		if err != nil || len(res.Stored) != 1 || res.Duplicates != 1 || res.Stored[0].ID != "13" {
			t.Errorf("%s: append after the copy = %+v (%v); want the repeat dropped and the new event id 13", name, res, err)
		}
	}
}

func sameDeployment(t *testing.T, name string, a, b storetest.Backend) {
	t.Helper()
	ctx := t.Context()
	ia, _ := a.Instances(ctx)
	ib, err := b.Instances(ctx)
	if err != nil || !reflect.DeepEqual(ia, ib) {
		t.Errorf("%s: instances differ (%v):\n%+v\n%+v", name, err, ia, ib)
	}
	ea, _ := a.EventsAfter(ctx, 0, 1000)
	eb, err := b.EventsAfter(ctx, 0, 1000)
	if err != nil || len(ea) != len(eb) {
		t.Fatalf("%s: %d events, want %d (%v)", name, len(eb), len(ea), err)
	}
	for i := range ea {
		x, y := ea[i], eb[i]
		if !x.ReceivedAt.Equal(y.ReceivedAt) || !x.Date.Equal(y.Date) || !x.PollDate.Equal(y.PollDate) {
			t.Errorf("%s: event %s times differ: %+v vs %+v", name, x.ID, x, y)
		}
		x.ReceivedAt, x.Date, x.PollDate, y.ReceivedAt, y.Date, y.PollDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: event differs:\n%+v\n%+v", name, x, y)
		}
	}
	na, _ := a.NotificationsAfter(ctx, 0, 1000)
	nb, err := b.NotificationsAfter(ctx, 0, 1000)
	if err != nil || len(na) != len(nb) || len(na) == 0 {
		t.Fatalf("%s: %d notifications, want %d (%v)", name, len(nb), len(na), err)
	}
	for i := range na {
		x, y := na[i], nb[i]
		for _, p := range [][2]*time.Time{{&x.CreatedAt, &y.CreatedAt}, {&x.NextAttempt, &y.NextAttempt}, {&x.FailingSince, &y.FailingSince}, {&x.DeliveredAt, &y.DeliveredAt}} {
			if !p[0].Equal(*p[1]) {
				t.Errorf("%s: notification %s times differ: %v vs %v", name, x.ID, *p[0], *p[1])
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: notification differs:\n%+v\n%+v", name, x, y)
		}
		aa, _ := a.Attempts(ctx, x.ID)
		ab, _ := b.Attempts(ctx, x.ID)
		if len(aa) != len(ab) {
			t.Errorf("%s: notification %s has %d attempts, want %d", name, x.ID, len(ab), len(aa))
		}
	}
	pa, _ := a.AllPollStatuses(ctx)
	pb, _ := b.AllPollStatuses(ctx)
	if len(pa) != 1 || len(pb) != 1 || !pa[0].Checkpoint.Equal(pb[0].Checkpoint) || pa[0].Records != pb[0].Records {
		t.Errorf("%s: poll statuses %+v, want %+v", name, pb, pa)
	}
	sa, _ := a.Settings(ctx)
	sb, _ := b.Settings(ctx)
	if !reflect.DeepEqual(sa, sb) {
		t.Errorf("%s: settings %v, want %v", name, sb, sa)
	}
}
