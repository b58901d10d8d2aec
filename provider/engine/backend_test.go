package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// implementations are the two sides of the engine boundary over one
// store: in process, and over the HTTP API.
func implementations(t *testing.T, st *store.Store) map[string]backend.Backend {
	t.Helper()
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const public = "https://events.example.com"
	srv := httptest.NewServer(provider.New(st, provider.Config{PublicURL: public, Secrets: sec, Addr: "127.0.0.1:8470"}))
	t.Cleanup(srv.Close)
	remote, err := backend.NewRemote(backend.RemoteOptions{URL: srv.URL, User: sec.User, Organization: sec.Organization})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]backend.Backend{
		"local":  engine.NewLocal(st, engine.LocalOptions{Addr: "127.0.0.1:8470", PublicURL: public}),
		"remote": remote,
	}
}

func seedRequest(t *testing.T, name string) model.InstanceRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	var req model.InstanceRequest
	if err := json.Unmarshal(model.StripJSONC(b), &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// The same assertions hold for both implementations: what the console and
// the verbs see does not depend on where the engine runs.
func TestBackendConformance(t *testing.T) {
	for _, name := range []string{"local", "remote"} {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			b := implementations(t, st)[name]
			ctx := context.Background()

			info, err := b.Info(ctx)
			if err != nil || info.PublicURL != "https://events.example.com" || info.Addr != "127.0.0.1:8470" {
				t.Fatalf("info %+v %v", info, err)
			}
			bad := seedRequest(t, "pipedrive-webhook.json")
			bad.Configuration["event.notification.callback.url"] = json.RawMessage(`"not a url"`)
			var ve *model.ValidationError
			if _, err := b.CreateInstance(ctx, bad); !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("bad create: %v, want a validation error with problems", err)
			}
			in, err := b.CreateInstance(ctx, seedRequest(t, "pipedrive-webhook.json"))
			if err != nil || in.ID != 1 || in.Name != "Pipedrive webhook" || in.ElementKey != "pipedrive" {
				t.Fatalf("create: %+v %v", in, err)
			}
			list, err := b.Instances(ctx)
			if err != nil || len(list) != 1 || list[0].Configuration["event.vendor.type"] != "webhook" {
				t.Fatalf("instances: %+v %v", list, err)
			}
			name := "Renamed"
			patched, err := b.PatchInstance(ctx, 1, model.InstanceRequest{Name: &name, Configuration: map[string]json.RawMessage{"pipedrive.password": json.RawMessage(`"` + model.Mask + `"`)}})
			if err != nil || patched.Name != "Renamed" {
				t.Fatalf("patch: %+v %v", patched, err)
			}
			rev, err := b.RevealInstance(ctx, 1)
			if err != nil || rev.Configuration["pipedrive.password"] != "pd-Secret-Pass-1" {
				t.Fatalf("reveal after a masked patch: %q %v", rev.Configuration["pipedrive.password"], err)
			}
			if _, err := b.PatchInstance(ctx, 1, model.InstanceRequest{Element: &model.ElementRef{Key: "closeio"}}); !errors.As(err, &ve) {
				t.Errorf("changing the element: %v", err)
			}
			if _, err := b.Instance(ctx, 42); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("instance 42: %v, want ErrNotFound", err)
			}

			var evs []model.Event
			for i := range 7 {
				typ := "deals"
				if i%2 == 1 {
					typ = "persons"
				}
				evs = append(evs, model.Event{InstanceID: 1, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: typ,
					ObjectID: string(rune('a' + i)), EventType: model.Created, Raw: json.RawMessage(`{"n":1}`)})
			}
			if _, err := st.AppendEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			page, next, err := b.Events(ctx, model.EventFilter{ObjectType: "deals"}, 3)
			if err != nil || len(page) != 3 || page[0].ID != "7" || next == 0 {
				t.Fatalf("events page: %d %v next %d", len(page), err, next)
			}
			rest, next, err := b.Events(ctx, model.EventFilter{ObjectType: "deals", Before: next}, 3)
			if err != nil || len(rest) != 1 || rest[0].ID != "1" || next != 0 {
				t.Fatalf("second page: %+v next %d %v", rest, next, err)
			}
			after, err := b.EventsAfter(ctx, 4, 100)
			if err != nil || len(after) != 3 || after[0].ID != "5" {
				t.Fatalf("after 4: %d %v", len(after), err)
			}
			if last, err := b.LastEventID(ctx); err != nil || last != 7 {
				t.Errorf("last id %d %v", last, err)
			}
			if e, err := b.Event(ctx, "3"); err != nil || string(e.Raw) != `{"n":1}` {
				t.Errorf("event 3: %s %v", e.Raw, err)
			}
			if _, err := b.Event(ctx, "99"); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("event 99: %v", err)
			}

			notes, _, err := b.Notifications(ctx, model.NotificationFilter{InstanceID: 1}, 50)
			if err != nil || len(notes) == 0 {
				t.Fatalf("notifications: %d %v", len(notes), err)
			}
			n, err := b.NotificationOfEvent(ctx, "3")
			if err != nil || !strings.Contains(strings.Join(n.EventIDs, ","), "3") || len(n.Body) == 0 {
				t.Fatalf("notification of event 3: %+v %v", n, err)
			}
			if one, err := b.Notification(ctx, n.ID); err != nil || one.ID != n.ID || len(one.Body) == 0 {
				t.Errorf("notification %s: %v", n.ID, err)
			}
			if failing, _, err := b.Notifications(ctx, model.NotificationFilter{Failing: true}, 50); err != nil || len(failing) != 0 {
				t.Errorf("failing before any attempt: %d %v", len(failing), err)
			}
			if err := st.RecordAttempts(ctx, []store.AttemptRecord{{Attempt: model.Attempt{NotificationID: n.ID, N: 1, Status: 500, Time: time.Now()}, State: model.StatePending, NextAttempt: time.Now().Add(time.Hour)}}); err != nil {
				t.Fatal(err)
			}
			if failing, _, err := b.Notifications(ctx, model.NotificationFilter{Failing: true}, 50); err != nil || len(failing) != 1 || failing[0].ID != n.ID {
				t.Errorf("failing after a 500: %+v %v", failing, err)
			}
			if atts, err := b.Attempts(ctx, n.ID); err != nil || len(atts) != 1 || atts[0].Status != 500 {
				t.Errorf("attempts: %+v %v", atts, err)
			}
			if r, err := b.Replay(ctx, n.ID); err != nil || r.ID != n.ID {
				t.Errorf("replay: %+v %v", r, err)
			}

			if err := st.AddRejected(ctx, model.Rejected{Method: "POST", Path: "/x", Status: 401, Reason: "no"}); err != nil {
				t.Fatal(err)
			}
			// Over the API the client's own 4xx answers are kept too (every
			// 4xx is); the newest is the one added here.
			rj, _, err := b.Rejected(ctx, 0, 10)
			if err != nil || len(rj) == 0 || rj[0].Path != "/x" || rj[0].Status != 401 {
				t.Errorf("rejected: %+v %v", rj, err)
			}
			stats, err := b.Stats(ctx)
			if err != nil || stats.Instances != 1 || stats.LastEventID != 7 || stats.Rejected != len(rj) || stats.Pending != len(notes) || stats.EventsLastMinute != 7 {
				t.Errorf("stats: %+v %v", stats, err)
			}
			if ps, err := b.PollStatuses(ctx, 1); err != nil || len(ps) != 0 {
				t.Errorf("poll statuses of a webhook instance: %+v %v", ps, err)
			}
			pol, err := b.CreateInstance(ctx, seedRequest(t, "pipedrive-polling.json"))
			if err != nil {
				t.Fatal(err)
			}
			pvs, err := b.PollerPreview(ctx, pol.ID, nil)
			if err != nil || len(pvs) == 0 || !strings.HasPrefix(pvs[0].Request, "GET https://") || pvs[0].SinceFrom != "events enabled" {
				t.Errorf("preview of the stored poller: %+v %v", pvs, err)
			}
			draft := []byte(`{"deals":{"url":"/deals?updated_since=${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}","idField":"id","datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss","updatedDateTimezone":"GMT","createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss","createdDateTimezone":"GMT"}}}`)
			if pvs, err := b.PollerPreview(ctx, pol.ID, draft); err != nil || len(pvs) != 1 || pvs[0].Resource != "deals" {
				t.Errorf("preview of a draft: %+v %v", pvs, err)
			}
			if _, err := b.PollerPreview(ctx, pol.ID, []byte(`{"deals":{"url":""}}`)); !errors.As(err, &ve) {
				t.Errorf("preview of a bad draft: %v, want a validation error", err)
			}
			if err := b.DeleteInstance(ctx, pol.ID); err != nil {
				t.Fatal(err)
			}
			sec, _ := st.APISecrets(ctx)
			if s, err := b.Secrets(ctx); err != nil || s.User != sec.User || s.Organization != sec.Organization {
				t.Errorf("secrets: %v", err)
			}
			var buf bytes.Buffer
			if n, err := b.Backup(ctx, &buf); err != nil || n == 0 || int64(buf.Len()) != n {
				t.Errorf("backup: %d %v", n, err)
			}
			if err := b.DeleteInstance(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Instance(ctx, 1); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("deleted instance: %v", err)
			}
			if err := b.DeleteInstance(ctx, 1); !errors.Is(err, backend.ErrNotFound) {
				t.Errorf("deleting twice: %v", err)
			}
		})
	}
}

// blockingPoller holds a poll until its context ends, and says so.
type blockingPoller struct {
	started, cancelled chan struct{}
}

func (p *blockingPoller) PollNow(ctx context.Context, id int64, _ string) ([]model.PollStatus, []model.Event, error) {
	close(p.started)
	<-ctx.Done()
	close(p.cancelled)
	return nil, nil, ctx.Err()
}

// A client that gives up on poll now (ctrl+c on `eventdesk poll`) stops
// the poll on the engine: closing the request cancels it there.
func TestRemotePollNowIsCancelledWithTheClient(t *testing.T) {
	st := openStore(t)
	if _, err := engine.NewLocal(st, engine.LocalOptions{}).CreateInstance(context.Background(), seedRequest(t, "pipedrive-polling.json")); err != nil {
		t.Fatal(err)
	}
	sec, _ := st.APISecrets(t.Context())
	p := &blockingPoller{started: make(chan struct{}), cancelled: make(chan struct{})}
	srv := httptest.NewServer(provider.New(st, provider.Config{Secrets: sec, Poller: p}))
	defer srv.Close()
	remote, err := backend.NewRemote(backend.RemoteOptions{URL: srv.URL, User: sec.User, Organization: sec.Organization})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := remote.PollNow(ctx, 1, "")
		errc <- err
	}()
	<-p.started
	cancel()
	select {
	case <-p.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine's poll went on after the client gave up")
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("PollNow returned %v, want context.Canceled", err)
	}
}

// Opening events whose instance sends no callbacks is normal for a
// console: the answer is "none", and no 404 lands in the rejected log.
func TestEventWithoutNotificationIsNotARejection(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	impls := implementations(t, st)
	if _, err := impls["local"].CreateInstance(ctx, model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: strPtr("quiet"),
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, st, 1)
	for _, name := range []string{"local", "remote"} {
		if _, err := impls[name].NotificationOfEvent(ctx, "1"); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
		if _, err := impls[name].NotificationOfEvent(ctx, "99"); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("%s, unknown event: %v, want ErrNotFound", name, err)
		}
	}
	rj, _, err := st.RejectedList(ctx, 0, 10)
	if err != nil || len(rj) != 1 || !strings.Contains(rj[0].Path, "/events/99/") {
		t.Errorf("rejected log: %+v %v, want only the unknown event's 404", rj, err)
	}
}
