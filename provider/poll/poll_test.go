package poll_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// pipedriveRig is a store with the seed's Pipedrive polling instance
// pointed at a fake Pipedrive, everything on one fake clock.
type pipedriveRig struct {
	st    *store.Store
	fake  *fakepipedrive.Server
	clock *fakepipedrive.FakeClock
	p     *poll.Poller
	inst  model.Instance
}

func newPipedriveRig(t *testing.T) *pipedriveRig {
	t.Helper()
	clock := fakepipedrive.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	fake := fakepipedrive.New(fakepipedrive.Options{Clock: clock})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	data, err := os.ReadFile("../../testdata/seeds/pipedrive-polling.json")
	if err != nil {
		t.Fatal(err)
	}
	var req model.InstanceRequest
	if err := json.Unmarshal(model.StripJSONC(data), &req); err != nil {
		t.Fatal(err)
	}
	req.Configuration["base.url"] = json.RawMessage(`"` + srv.URL + `/v1"`)
	req.Configuration["pipedrive.api.token"] = json.RawMessage(`"` + fakepipedrive.DefaultAPIToken + `"`)
	in, err := model.NewInstance(req, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(in); err != nil {
		t.Fatal(err)
	}
	p := poll.New(st, poll.Options{Now: clock.Now, Sleep: func(context.Context, time.Duration) error { return nil }})
	return &pipedriveRig{st: st, fake: fake, clock: clock, p: p, inst: in}
}

func TestPipedriveSeedPollerCreatedAndUpdated(t *testing.T) {
	r := newPipedriveRig(t)
	ctx := context.Background()
	// History from before events were enabled must not flood in.
	r.clock.Advance(-time.Hour)
	old := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Old Person"})
	r.clock.Advance(time.Hour + time.Minute)
	person := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Ada"})
	org := r.fake.Create(fakepipedrive.KindOrganization, map[string]any{"name": "Acme"})
	r.clock.Advance(time.Minute)

	st, events, err := poll.PollNow(ctx, r.st, r.p, r.inst.ID, "")
	if err != nil {
		t.Fatalf("poll: %v (statuses %+v)", err, st)
	}
	got := map[string]model.EventType{}
	for _, e := range events {
		got[e.ObjectType+"/"+e.ObjectID] = e.EventType
	}
	want := map[string]model.EventType{"contacts/" + person.ID: model.Created, "accounts/" + org.ID: model.Created}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v (old record %s must not appear)", got, want, old.ID)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %s, want %s", k, got[k], v)
		}
	}

	// An update more than createdCheckTolerance later is UPDATED, and a
	// second poll over an overlapping window repeats nothing.
	r.clock.Advance(time.Minute)
	if _, err := r.fake.Update(fakepipedrive.KindPerson, person.ID, map[string]any{"name": "Ada L."}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, events, err = poll.PollNow(ctx, r.st, r.p, r.inst.ID, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].EventType != model.Updated || events[0].ObjectID != person.ID {
		t.Fatalf("second poll events = %+v, want one UPDATED for %s", events, person.ID)
	}
	_, events, err = poll.PollNow(ctx, r.st, r.p, r.inst.ID, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Fatalf("third poll repeated %d events", len(events))
	}
}
