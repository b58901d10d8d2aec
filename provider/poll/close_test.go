package poll_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakeclose"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// closeRig is a store with the seed's Close polling instance pointed at a
// fake Close, everything on one fake clock.
type closeRig struct {
	st    *store.Store
	fake  *fakeclose.Server
	gate  *gate
	clock *fakeclose.FakeClock
	sleep *sleeper
	p     *poll.Poller
	inst  model.Instance
}

func newCloseRig(t testing.TB, fo fakeclose.Options, edits ...func(*model.InstanceRequest)) *closeRig {
	t.Helper()
	clock := fakeclose.NewClock(t0)
	fo.Clock = clock
	fake := fakeclose.New(fo)
	g := &gate{next: fake}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	st := openStore(t, clock.Now)
	req := seedRequest(t, "closeio-polling.json", srv.URL+"/api/v1")
	// Close takes the API key as the Basic user name and an empty password.
	req.Configuration["username"] = jsonString(fakeclose.DefaultAPIKey)
	req.Configuration["password"] = json.RawMessage("null")
	for _, e := range edits {
		e(&req)
	}
	in, err := model.NewInstance(req, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	sl := &sleeper{clock: clock}
	return &closeRig{st: st, fake: fake, gate: g, clock: clock, sleep: sl, inst: in,
		p: poll.New(st, poll.Options{Now: clock.Now, Sleep: sl.sleep})}
}

func (r *closeRig) poll(t testing.TB, resource string) (model.PollStatus, []model.Event) {
	t.Helper()
	st, evs, err := r.pollErr(resource)
	if err != nil {
		t.Fatalf("poll %s: %v (status %+v)", resource, err, st)
	}
	return st, evs
}

func (r *closeRig) pollErr(resource string) (model.PollStatus, []model.Event, error) {
	in, err := r.st.Instance(context.Background(), r.inst.ID)
	if err != nil {
		return model.PollStatus{}, nil, err
	}
	return r.p.Poll(context.Background(), in, resource, true)
}

func (r *closeRig) requests(prefix string) []fakeclose.RecordedRequest {
	var out []fakeclose.RecordedRequest
	for _, rr := range r.fake.Requests() {
		if strings.HasPrefix(rr.URL.Path, prefix) {
			out = append(out, rr)
		}
	}
	return out
}

func TestCloseSeedContactsEventLog(t *testing.T) {
	r := newCloseRig(t, fakeclose.Options{})
	r.clock.Advance(-time.Hour)
	old := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Old"})
	r.clock.Advance(time.Hour + time.Minute)
	ada := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Ada"})
	bob := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Bob"})
	r.clock.Advance(time.Minute)

	st, evs := r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + ada.ID: model.Created, "contacts/" + bob.ID: model.Created})
	if st.Pages != 1 || st.Records != 2 || st.Events != 2 || len(st.Warnings) != 0 || !st.Checkpoint.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("status %+v", st)
	}
	for _, e := range evs {
		if e.ObjectID == ada.ID && !e.Date.Equal(ada.DateUpdated) {
			t.Errorf("date %s, want %s", e.Date, ada.DateUpdated)
		}
	}
	reqs := r.requests("/api/v1/event")
	if len(reqs) != 1 {
		t.Fatalf("event log requests: %v", reqs)
	}
	q := reqs[0].URL.Query()
	if reqs[0].URL.Path != "/api/v1/event/" || q.Get("object_type") != "contact" ||
		q.Get("date_updated__gte") != "2026-03-01T09:59:00.000000" || q.Has("date_updated__gt") {
		t.Errorf("event log request %s", reqs[0].URL)
	}
	if user, pass, ok := (&http.Request{Header: reqs[0].Header}).BasicAuth(); !ok || user != fakeclose.DefaultAPIKey || pass != "" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if n := len(r.requests("/api/v1/contact")); n != 0 {
		t.Errorf("%d contact fetches; the event log carried the data", n)
	}
	if !strings.Contains(st.LastURL, "/api/v1/event/?") || strings.Contains(st.LastURL, fakeclose.DefaultAPIKey) {
		t.Errorf("lastUrl %q", st.LastURL)
	}

	// Update Ada, delete Bob: UPDATED and DELETED; the old contact never.
	r.clock.Advance(time.Minute)
	if _, err := r.fake.Update(fakeclose.KindContact, ada.ID, map[string]any{"title": "CTO"}); err != nil {
		t.Fatal(err)
	}
	if err := r.fake.Delete(fakeclose.KindContact, bob.ID); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, evs = r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + ada.ID: model.Updated, "contacts/" + bob.ID: model.Deleted})
	for _, e := range evs {
		if e.EventType == model.Deleted && (!strings.Contains(string(e.Raw), bob.ID) || !e.Date.Equal(t0.Add(3*time.Minute))) {
			t.Errorf("deleted event %+v (raw %s), want Bob's last data dated at the deletion", e, e.Raw)
		}
		if e.ObjectID == old.ID {
			t.Errorf("history emitted: %+v", e)
		}
	}

	// Ada changed (UPDATED, emitted above) and is now deleted: that is a
	// new change, DELETED, not a repeat of the update.
	r.clock.Advance(time.Minute)
	if err := r.fake.Delete(fakeclose.KindContact, ada.ID); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, evs = r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + ada.ID: model.Deleted})

	// Nothing new: nothing again, though the window overlaps.
	r.clock.Advance(30 * time.Second)
	_, evs = r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{})
}

// A contact created and deleted between two polls is reported deleted.
func TestCloseCreatedThenDeletedBetweenPolls(t *testing.T) {
	r := newCloseRig(t, fakeclose.Options{})
	r.clock.Advance(time.Minute)
	c := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Brief"})
	r.clock.Advance(time.Second)
	if err := r.fake.Delete(fakeclose.KindContact, c.ID); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, evs := r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + c.ID: model.Deleted})
}

// Events without data (Close omits it for older events to non-admins): the
// poller fetches the object.
func TestCloseEventWithoutDataFetchesObject(t *testing.T) {
	r := newCloseRig(t, fakeclose.Options{OmitEventData: true})
	r.clock.Advance(time.Minute)
	c := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Ada"})
	gone := r.fake.Create(fakeclose.KindContact, map[string]any{"name": "Gone"})
	r.clock.Advance(time.Second)
	if err := r.fake.Delete(fakeclose.KindContact, gone.ID); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	st, evs := r.poll(t, "contacts")
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + c.ID: model.Created, "contacts/" + gone.ID: model.Deleted})
	fetches := r.requests("/api/v1/contact/")
	if len(fetches) != 1 || fetches[0].URL.Path != "/api/v1/contact/"+c.ID+"/" {
		t.Fatalf("fetches %v, want GET /api/v1/contact/%s/", fetches, c.ID)
	}
	for _, e := range evs {
		if e.ObjectID == c.ID && !strings.Contains(string(e.Raw), `"name":"Ada"`) {
			t.Errorf("raw %s is not the fetched contact", e.Raw)
		}
	}
	if st.Records != 2 || st.Events != 2 {
		t.Errorf("status %+v", st)
	}
}

// Opportunities go through GET /opportunity/ with date_updated__gt,
// ordered by date_updated, paged with _skip/_limit and has_more.
func TestCloseOpportunities(t *testing.T) {
	cfg := `{"opportunities":{"url":"/hubs/crm/opportunities?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}'",` +
		`"idField":"id","pageSize":2,"datesConfiguration":{"updatedDateField":"date_updated","updatedDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",` +
		`"createdDateField":"date_created","createdDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}}}`
	r := newCloseRig(t, fakeclose.Options{}, pollerConfig(cfg))
	r.clock.Advance(-time.Hour)
	old := r.fake.Create(fakeclose.KindOpportunity, map[string]any{"note": "old"})
	r.clock.Advance(time.Hour + time.Minute)
	var ids []string
	for range 3 {
		ids = append(ids, r.fake.Create(fakeclose.KindOpportunity, nil).ID)
		r.clock.Advance(time.Second)
	}
	r.clock.Advance(30 * time.Second)
	if _, err := r.fake.Update(fakeclose.KindOpportunity, old.ID, map[string]any{"confidence": 90}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	st, evs := r.poll(t, "opportunities")
	wantEvents(t, evs, map[string]model.EventType{
		"opportunities/" + ids[0]: model.Created, "opportunities/" + ids[1]: model.Created, "opportunities/" + ids[2]: model.Created,
		"opportunities/" + old.ID: model.Updated,
	})
	reqs := r.requests("/api/v1/opportunity")
	if len(reqs) != 2 || st.Pages != 2 || st.Records != 4 {
		t.Fatalf("%d requests, status %+v", len(reqs), st)
	}
	q := reqs[0].URL.Query()
	if reqs[0].URL.Path != "/api/v1/opportunity/" || q.Get("date_updated__gt") != "2026-03-01T09:59:00.000000+00:00" ||
		q.Get("_order_by") != "date_updated" || q.Get("_limit") != "2" || q.Has("_skip") {
		t.Errorf("first request %s", reqs[0].URL)
	}
	if q := reqs[1].URL.Query(); q.Get("_skip") != "2" || q.Get("_limit") != "2" {
		t.Errorf("second request %s", reqs[1].URL)
	}
}

func TestCloseRateLimits(t *testing.T) {
	setup := func(t *testing.T) *closeRig {
		r := newCloseRig(t, fakeclose.Options{})
		r.clock.Advance(time.Minute)
		r.fake.Create(fakeclose.KindContact, nil)
		r.clock.Advance(time.Minute)
		return r
	}
	t.Run("RateLimit reset", func(t *testing.T) {
		r := setup(t)
		r.gate.set(nil, "Retry-After") // only "RateLimit: limit=100, remaining=0, reset=1" is left
		r.fake.Fail("/api/v1/event", 1, fakeclose.Fault{Status: http.StatusTooManyRequests, RetryAfter: 4 * time.Second})
		_, evs := r.poll(t, "contacts")
		if got := r.sleep.recorded(); !slices.Equal(got, []time.Duration{time.Second}) || len(evs) != 1 {
			t.Errorf("waits %v, %d events; want the RateLimit reset of 1s", got, len(evs))
		}
	})
	t.Run("Retry-After", func(t *testing.T) {
		r := setup(t)
		r.fake.Fail("/api/v1/event", 1, fakeclose.Fault{Status: http.StatusTooManyRequests, RetryAfter: 4 * time.Second})
		_, evs := r.poll(t, "contacts")
		if got := r.sleep.recorded(); !slices.Equal(got, []time.Duration{4 * time.Second}) || len(evs) != 1 {
			t.Errorf("waits %v, %d events; want Retry-After's 4s", got, len(evs))
		}
	})
	t.Run("decimal reset", func(t *testing.T) {
		r := setup(t)
		r.gate.set(func(w http.ResponseWriter, req *http.Request) bool {
			if len(r.sleep.recorded()) > 0 {
				return false
			}
			w.Header().Set("RateLimit", "limit=100, remaining=0, reset=0.25")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{}`))
			return true
		})
		_, evs := r.poll(t, "contacts")
		if got := r.sleep.recorded(); !slices.Equal(got, []time.Duration{250 * time.Millisecond}) || len(evs) != 1 {
			t.Errorf("waits %v, %d events", got, len(evs))
		}
	})
}

func TestCloseBadAnswers(t *testing.T) {
	cases := []struct {
		name   string
		inject func(r *closeRig)
		errHas string
	}{
		{"repeated cursor", func(r *closeRig) { r.fake.Fail("/api/v1/event", 2, fakeclose.RepeatCursor()) }, "pagination loop"},
		{"malformed", func(r *closeRig) { r.fake.Fail("/api/v1/event", 1, fakeclose.Malformed()) }, "malformed answer"},
		{"401", func(r *closeRig) { r.fake.Fail("/api/v1/event", 1, fakeclose.Status(http.StatusUnauthorized)) }, "credentials rejected"},
		{"fetch fails", func(r *closeRig) { r.fake.Fail("/api/v1/contact", 1, fakeclose.Status(http.StatusBadGateway)) }, "the event log carried no data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newCloseRig(t, fakeclose.Options{EventLimitMax: 2, OmitEventData: tc.name == "fetch fails"})
			r.clock.Advance(time.Minute)
			st0, _ := r.poll(t, "contacts")
			r.clock.Advance(time.Minute)
			for range 5 {
				r.fake.Create(fakeclose.KindContact, nil)
			}
			r.clock.Advance(time.Minute)
			tc.inject(r)
			r.fake.ResetRequests()
			st, _, err := r.pollErr("contacts")
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(st.LastError, tc.errHas) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.errHas)
			}
			if !st.Checkpoint.Equal(st0.Checkpoint) || st.Failures != 1 {
				t.Errorf("status %+v, checkpoint was %s", st, st0.Checkpoint)
			}
			if n := len(r.fake.Requests()); n > 8 {
				t.Errorf("%d requests", n)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		r := newCloseRig(t, fakeclose.Options{}, func(req *model.InstanceRequest) {
			req.Configuration["username"] = jsonString("api_wrong")
		})
		_, _, err := r.pollErr("contacts")
		if err == nil || !strings.Contains(err.Error(), "credentials rejected") || strings.Contains(err.Error(), "api_wrong") {
			t.Fatalf("err = %v", err)
		}
	})
}
