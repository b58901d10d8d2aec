package poll_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/provider/pipedrive"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// t0 is when every rig's instance is created, i.e. when events were enabled.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// clock is what both fakes' clocks offer.
type clock interface {
	Now() time.Time
	Advance(d time.Duration) time.Time
}

// sleeper stands in for Options.Sleep: it records every requested wait and
// moves the fake clock by it, as a real wait would, unless frozen.
type sleeper struct {
	mu     sync.Mutex
	waits  []time.Duration
	clock  clock
	frozen bool
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	frozen := s.frozen
	s.mu.Unlock()
	if !frozen {
		s.clock.Advance(d)
	}
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// gate sits in front of a fake vendor: it can answer a request itself
// (faults the fakes cannot express, such as failing only a later page) and
// strip response headers (to show which rate-limit header the poller read).
type gate struct {
	next http.Handler

	mu      sync.Mutex
	answer  func(w http.ResponseWriter, r *http.Request) bool
	strip   []string
	arrived chan string // path?query of every request, when not nil
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	answer, strip, arrived := g.answer, g.strip, g.arrived
	g.mu.Unlock()
	if arrived != nil {
		select {
		case arrived <- r.URL.RequestURI():
		default:
		}
	}
	if answer != nil && answer(w, r) {
		return
	}
	if len(strip) > 0 {
		w = &stripWriter{ResponseWriter: w, strip: strip}
	}
	g.next.ServeHTTP(w, r)
}

func (g *gate) set(answer func(w http.ResponseWriter, r *http.Request) bool, strip ...string) {
	g.mu.Lock()
	g.answer, g.strip = answer, strip
	g.mu.Unlock()
}

type stripWriter struct {
	http.ResponseWriter
	strip []string
	done  bool
}

func (s *stripWriter) WriteHeader(code int) {
	if !s.done {
		s.done = true
		for _, h := range s.strip {
			s.Header().Del(h)
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *stripWriter) Write(b []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// openStore opens a throwaway store on the fake clock, without fsync
// unless sync is set.
func openStore(t testing.TB, now func() time.Time, sync ...bool) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{Now: now, NoSync: len(sync) == 0 || !sync[0]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// seedRequest reads a seed instance and points it at a fake server.
func seedRequest(t testing.TB, file, baseURL string) model.InstanceRequest {
	t.Helper()
	data, err := os.ReadFile("../../testdata/seeds/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var req model.InstanceRequest
	if err := json.Unmarshal(model.StripJSONC(data), &req); err != nil {
		t.Fatal(err)
	}
	req.Configuration["base.url"] = json.RawMessage(`"` + baseURL + `"`)
	return req
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// rigOptions vary a rig.
type rigOptions struct {
	// edit changes the seed's instance request (credentials, poller
	// configuration) before the instance is created.
	edit func(req *model.InstanceRequest)
	// poller changes the poller's options.
	poller func(o *poll.Options)
	// sync makes the store fsync its commits, as in production.
	sync bool
}

// pipedriveRig is a store with the seed's Pipedrive polling instance
// pointed at a fake Pipedrive, everything on one fake clock.
type pipedriveRig struct {
	st    *store.Store
	fake  *fakepipedrive.Server
	gate  *gate
	clock *fakepipedrive.FakeClock
	sleep *sleeper
	p     *poll.Poller
	inst  model.Instance
}

func newPipedriveRig(t testing.TB) *pipedriveRig {
	return newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: func(req *model.InstanceRequest) {
		req.Configuration["pipedrive.api.token"] = jsonString(fakepipedrive.DefaultAPIToken)
	}})
}

func newPipedriveRigWith(t testing.TB, fo fakepipedrive.Options, ro rigOptions) *pipedriveRig {
	t.Helper()
	clock := fakepipedrive.NewClock(t0)
	fo.Clock = clock
	fake := fakepipedrive.New(fo)
	g := &gate{next: fake}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	st := openStore(t, clock.Now, ro.sync)
	req := seedRequest(t, "pipedrive-polling.json", srv.URL+"/v1")
	if ro.edit != nil {
		ro.edit(&req)
	}
	in, err := model.NewInstance(req, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	sl := &sleeper{clock: clock}
	opts := poll.Options{Now: clock.Now, Sleep: sl.sleep}
	if ro.poller != nil {
		ro.poller(&opts)
	}
	return &pipedriveRig{st: st, fake: fake, gate: g, clock: clock, sleep: sl, p: poll.New(st, opts), inst: in}
}

// pollerConfig replaces the poller configuration.
func pollerConfig(cfg string) func(*model.InstanceRequest) {
	return func(req *model.InstanceRequest) {
		req.Configuration["event.poller.configuration"] = json.RawMessage(cfg)
	}
}

// withToken sets the Pipedrive token, then applies more edits.
func withToken(edits ...func(*model.InstanceRequest)) func(*model.InstanceRequest) {
	return func(req *model.InstanceRequest) {
		req.Configuration["pipedrive.api.token"] = jsonString(fakepipedrive.DefaultAPIToken)
		for _, e := range edits {
			e(req)
		}
	}
}

// pdContacts is the seed's contacts resource with a page size.
func pdContacts(pageSize int, where string) string {
	if where != "" {
		where = " AND " + where
	}
	return `{"contacts":{"url":"/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'` + where + `","idField":"id","pageSize":` +
		itoa(pageSize) + `,"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss",` +
		`"createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss"}}}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// pollAll polls every resource of the rig's instance.
func (r *pipedriveRig) pollAll(t testing.TB) ([]model.PollStatus, []model.Event) {
	t.Helper()
	sts, evs, err := poll.PollNow(context.Background(), r.st, r.p, r.inst.ID, "")
	if err != nil {
		t.Fatalf("poll: %v (statuses %+v)", err, sts)
	}
	return sts, evs
}

// pollOne polls one resource and returns its status, events and error.
func (r *pipedriveRig) pollOne(resource string) (model.PollStatus, []model.Event, error) {
	in, err := r.st.Instance(context.Background(), r.inst.ID)
	if err != nil {
		return model.PollStatus{}, nil, err
	}
	return r.p.Poll(context.Background(), in, resource, true)
}

// requests lists the fake's requests whose path starts with prefix.
func (r *pipedriveRig) requests(prefix string) []fakepipedrive.RecordedRequest {
	var out []fakepipedrive.RecordedRequest
	for _, rr := range r.fake.Requests() {
		if strings.HasPrefix(rr.URL.Path, prefix) {
			out = append(out, rr)
		}
	}
	return out
}

// eventSet renders events as "objectType/objectId" → type.
func eventSet(t testing.TB, events []model.Event) map[string]model.EventType {
	t.Helper()
	got := map[string]model.EventType{}
	for _, e := range events {
		k := e.ObjectType + "/" + e.ObjectID
		if _, dup := got[k]; dup {
			t.Errorf("object %s emitted twice in one poll", k)
		}
		got[k] = e.EventType
	}
	return got
}

func wantEvents(t testing.TB, events []model.Event, want map[string]model.EventType) {
	t.Helper()
	got := eventSet(t, events)
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %s (all: %v)", k, got[k], v, got)
		}
	}
}

// storedPerObject counts the instance's stored events by objectType/objectId.
func storedPerObject(t testing.TB, st *store.Store, instanceID int64) map[string]int {
	t.Helper()
	evs, _, err := st.Events(t.Context(), store.EventFilter{InstanceID: instanceID}, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.ObjectType+"/"+e.ObjectID+"/"+string(e.EventType)]++
	}
	return out
}

var wholeSecondsUTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

func TestPipedriveSeedPollerCreatedAndUpdated(t *testing.T) {
	r := newPipedriveRig(t)
	ctx := context.Background()
	// History from before events were enabled must not flood in.
	r.clock.Advance(-time.Hour)
	old := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Old Person"})
	oldDeal := r.fake.Create(fakepipedrive.KindDeal, map[string]any{"title": "Old deal"})
	r.clock.Advance(time.Hour + time.Minute)
	person := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Ada"})
	org := r.fake.Create(fakepipedrive.KindOrganization, map[string]any{"name": "Acme"})
	deal := r.fake.Create(fakepipedrive.KindDeal, map[string]any{"title": "Big deal"})
	r.clock.Advance(time.Minute)

	sts, events := r.pollAll(t)
	wantEvents(t, events, map[string]model.EventType{
		"contacts/" + person.ID: model.Created, "accounts/" + org.ID: model.Created, "opportunities/" + deal.ID: model.Created,
	})
	for _, e := range events {
		if (e.ObjectType == "contacts" && e.ObjectID == old.ID) || (e.ObjectType == "opportunities" && e.ObjectID == oldDeal.ID) {
			t.Errorf("history from before events were enabled was emitted: %+v", e)
		}
		if e.Source != model.SourcePolling || e.ElementKey != "pipedrive" || e.HubKey != "crm" || !e.PollDate.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("event fields: %+v", e)
		}
		if !e.Date.Equal(t0.Add(time.Minute)) {
			t.Errorf("event date %s, want the record's update_time %s", e.Date, t0.Add(time.Minute))
		}
	}

	// API v2 with updated_since in whole seconds (the enable time less the
	// overlap), sort_by=update_time and the token in x-api-token.
	for _, coll := range []string{"persons", "organizations", "deals"} {
		reqs := r.requests("/api/v2/" + coll)
		if len(reqs) != 1 {
			t.Fatalf("%d requests to /api/v2/%s, want 1", len(reqs), coll)
		}
		q := reqs[0].URL.Query()
		since := q.Get("updated_since")
		if !wholeSecondsUTC.MatchString(since) || since != "2026-03-01T09:59:00Z" {
			t.Errorf("%s: updated_since=%q, want 2026-03-01T09:59:00Z (whole seconds)", coll, since)
		}
		if q.Get("sort_by") != "update_time" || q.Get("limit") != "100" || q.Has("api_token") {
			t.Errorf("%s: query %s", coll, reqs[0].URL.RawQuery)
		}
		if got := reqs[0].Header.Get("x-api-token"); got != fakepipedrive.DefaultAPIToken {
			t.Errorf("%s: x-api-token %q", coll, got)
		}
	}
	if n := len(r.requests("/v1/")); n != 0 {
		t.Errorf("%d requests to v1 lists; persons, organizations and deals go through API v2", n)
	}
	// Status: one page, one record, one event each. API v2's RFC 3339
	// times do not match the seed's yyyy-MM-dd HH:mm:ss, but that is the
	// element's default pattern and RFC 3339 is what Pipedrive documents:
	// no warning, or operators learn to ignore warnings.
	for _, st := range sts {
		if st.Pages != 1 || st.Records != 1 || st.Events != 1 || st.LastError != "" || !st.Checkpoint.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("status %+v", st)
		}
		if len(st.Warnings) != 0 {
			t.Errorf("%s warnings %q with the seed's default poller, want none", st.Resource, st.Warnings)
		}
		if !strings.Contains(st.LastURL, "/api/v2/") || strings.Contains(st.LastURL, fakepipedrive.DefaultAPIToken) {
			t.Errorf("lastUrl %q", st.LastURL)
		}
	}

	// An update more than createdCheckTolerance later is UPDATED, and a
	// second poll over an overlapping window repeats nothing.
	r.clock.Advance(time.Minute)
	if _, err := r.fake.Update(fakepipedrive.KindPerson, person.ID, map[string]any{"name": "Ada L."}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.Update(fakepipedrive.KindDeal, deal.ID, map[string]any{"status": "won"}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, events = r.pollAll(t)
	wantEvents(t, events, map[string]model.EventType{"contacts/" + person.ID: model.Updated, "opportunities/" + deal.ID: model.Updated})
	if got := r.requests("/api/v2/persons")[1].URL.Query().Get("updated_since"); got != "2026-03-01T10:01:00Z" {
		t.Errorf("second poll updated_since=%s, want the checkpoint less the overlap", got)
	}
	_, events, err := poll.PollNow(ctx, r.st, r.p, r.inst.ID, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Fatalf("third poll repeated %d events", len(events))
	}
}

// Two polls of one resource at the same time see the same records; the
// store's dedupe keeps one event per change.
func TestPipedriveConcurrentPollsEmitOnce(t *testing.T) {
	r := newPipedriveRig(t)
	r.clock.Advance(time.Minute)
	var ids []string
	for range 5 {
		ids = append(ids, r.fake.Create(fakepipedrive.KindPerson, nil).ID)
	}
	r.clock.Advance(time.Minute)
	var wg sync.WaitGroup
	results := make([][]model.Event, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, evs, err := r.pollOne("contacts")
			if err != nil {
				t.Error(err)
			}
			results[i] = evs
		}()
	}
	wg.Wait()
	total := 0
	for _, evs := range results {
		total += len(evs)
	}
	if total != len(ids) {
		t.Errorf("concurrent polls emitted %d events, want %d", total, len(ids))
	}
	for _, id := range ids {
		if n := storedPerObject(t, r.st, r.inst.ID)["contacts/"+id+"/CREATED"]; n != 1 {
			t.Errorf("person %s stored %d times", id, n)
		}
	}
}

// filterByCurrentDate: a change stamped after the poll started waits for
// the next poll (the fake's clock runs ahead of the poller's here).
func TestPipedriveFilterByCurrentDate(t *testing.T) {
	var lag time.Duration // the poller's clock runs this far behind the vendor's
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{
		edit: withToken(pollerConfig(strings.Replace(pdContacts(100, ""), `"pageSize"`, `"filterByCurrentDate":true,"pageSize"`, 1))),
		poller: func(o *poll.Options) {
			now := o.Now
			o.Now = func() time.Time { return now().Add(-lag) }
		},
	})
	r.clock.Advance(time.Minute)
	early := r.fake.Create(fakepipedrive.KindPerson, nil)
	r.clock.Advance(time.Minute)
	late := r.fake.Create(fakepipedrive.KindPerson, nil) // stamped exactly at the poll start
	r.clock.Advance(30 * time.Second)
	future := r.fake.Create(fakepipedrive.KindPerson, nil)
	lag = 30 * time.Second // the poll starts before "future" was stamped
	_, evs, err := r.pollOne("contacts")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + early.ID: model.Created, "contacts/" + late.ID: model.Created})
	lag = 0
	r.clock.Advance(time.Minute)
	_, evs, err = r.pollOne("contacts")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + future.ID: model.Created})
}

// A poll that fails on a later page keeps its checkpoint; the next poll
// emits what it missed, and nothing twice.
func TestPipedriveFailedPollKeepsCheckpoint(t *testing.T) {
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(pdContacts(2, "")))})
	r.clock.Advance(time.Minute)
	st0, _, err := r.pollOne("contacts") // establishes a checkpoint
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	var ids []string
	for range 5 {
		ids = append(ids, r.fake.Create(fakepipedrive.KindPerson, nil).ID)
	}
	r.clock.Advance(time.Minute)

	// Page 2 (the first request with a cursor) answers 500.
	r.gate.set(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Query().Get("cursor") == "" {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"success":false,"error":"boom","errorCode":500}`))
		return true
	})
	st1, _, err := r.pollOne("contacts")
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("poll with a failing page 2: err = %v, want the 500", err)
	}
	if st1.LastError == "" || !strings.Contains(st1.LastError, "vendor answered 500") || st1.Failures != 1 {
		t.Errorf("status after failure: %+v", st1)
	}
	if !st1.Checkpoint.Equal(st0.Checkpoint) {
		t.Errorf("checkpoint moved on failure: %s → %s", st0.Checkpoint, st1.Checkpoint)
	}
	if stored, _ := r.st.PollStatus(t.Context(), r.inst.ID, "contacts"); !stored.Checkpoint.Equal(st0.Checkpoint) || stored.LastError == "" {
		t.Errorf("stored status after failure: %+v", stored)
	}
	if !strings.Contains(st1.LastURL, "cursor=") {
		t.Errorf("lastUrl %q should name the failing page", st1.LastURL)
	}

	r.gate.set(nil)
	r.clock.Advance(time.Minute)
	st2, evs, err := r.pollOne("contacts")
	if err != nil {
		t.Fatal(err)
	}
	// Page 1 was stored by the failed poll; the rest comes now.
	want := map[string]model.EventType{}
	for _, id := range ids[2:] {
		want["contacts/"+id] = model.Created
	}
	wantEvents(t, evs, want)
	if st2.LastError != "" || st2.Failures != 0 || !st2.Checkpoint.Equal(r.clock.Now()) || st2.Pages != 3 || st2.Records != 5 || st2.Events != 3 {
		t.Errorf("status after recovery: %+v", st2)
	}
	stored := storedPerObject(t, r.st, r.inst.ID)
	for _, id := range ids {
		if stored["contacts/"+id+"/CREATED"] != 1 {
			t.Errorf("person %s stored %d times, want 1", id, stored["contacts/"+id+"/CREATED"])
		}
	}
}

func TestPipedriveBadAnswers(t *testing.T) {
	cases := []struct {
		name   string
		inject func(r *pipedriveRig)
		token  string
		errHas string
		maxReq int
	}{
		{name: "malformed page", errHas: "malformed answer",
			inject: func(r *pipedriveRig) { r.fake.Fail("/api/v2/persons", 1, fakepipedrive.Malformed()) }},
		{name: "repeated cursor", errHas: "pagination loop", maxReq: 3,
			inject: func(r *pipedriveRig) { r.fake.Fail("/api/v2/persons", 2, fakepipedrive.RepeatCursor()) }},
		{name: "vendor 401", errHas: "credentials rejected",
			inject: func(r *pipedriveRig) {
				r.fake.Fail("/api/v2/persons", 1, fakepipedrive.Status(http.StatusUnauthorized))
			}},
		{name: "wrong token", errHas: "credentials rejected", token: "not-the-token"},
		{name: "503", errHas: "vendor answered 503",
			inject: func(r *pipedriveRig) {
				r.fake.Fail("/api/v2/persons", 1, fakepipedrive.Status(http.StatusServiceUnavailable))
			}},
		{name: "success false", errHas: "success=false", inject: func(r *pipedriveRig) {
			r.gate.set(func(w http.ResponseWriter, _ *http.Request) bool {
				_, _ = w.Write([]byte(`{"success":false,"data":null}`))
				return true
			})
		}},
		{name: "a record that is not an object", errHas: "not a JSON object", inject: func(r *pipedriveRig) {
			r.gate.set(func(w http.ResponseWriter, _ *http.Request) bool {
				_, _ = w.Write([]byte(`{"success":true,"data":[42],"additional_data":{"next_cursor":null}}`))
				return true
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := fakepipedrive.DefaultAPIToken
			if tc.token != "" {
				token = tc.token
			}
			r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: func(req *model.InstanceRequest) {
				req.Configuration["pipedrive.api.token"] = jsonString(token)
				pollerConfig(pdContacts(1, ""))(req)
			}})
			r.clock.Advance(time.Minute)
			st0, _, err := r.pollOne("contacts")
			if tc.token == "" && err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(time.Minute)
			for range 3 {
				r.fake.Create(fakepipedrive.KindPerson, nil)
			}
			r.clock.Advance(time.Minute)
			if tc.inject != nil {
				tc.inject(r)
			}
			r.fake.ResetRequests()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			in, _ := r.st.Instance(ctx, r.inst.ID)
			st, _, err := r.p.Poll(ctx, in, "contacts", true)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.errHas)
			}
			if !strings.Contains(st.LastError, tc.errHas) {
				t.Errorf("status lastError %q", st.LastError)
			}
			if tc.errHas == "credentials rejected" && !errors.Is(err, poll.ErrCredentialsRejected) {
				t.Errorf("err %v does not wrap ErrCredentialsRejected", err)
			}
			if !st.Checkpoint.Equal(st0.Checkpoint) {
				t.Errorf("checkpoint moved: %s → %s", st0.Checkpoint, st.Checkpoint)
			}
			if strings.Contains(st.LastError, token) || strings.Contains(st.LastURL, token) {
				t.Errorf("status leaks the token: %+v", st)
			}
			if tc.maxReq > 0 && len(r.fake.Requests()) > tc.maxReq {
				t.Errorf("%d requests for a pagination loop, want at most %d", len(r.fake.Requests()), tc.maxReq)
			}
		})
	}
}

// 429s are waited out as the vendor asks, through Options.Sleep; a
// successful answer with no requests left waits for the window too; a
// limit that never lifts or asks for too long fails the poll.
func TestPipedriveRateLimits(t *testing.T) {
	setup := func(t *testing.T, fo fakepipedrive.Options) *pipedriveRig {
		r := newPipedriveRigWith(t, fo, rigOptions{edit: withToken(pollerConfig(pdContacts(1, "")))})
		r.clock.Advance(time.Minute)
		r.fake.Create(fakepipedrive.KindPerson, nil)
		r.fake.Create(fakepipedrive.KindPerson, nil)
		r.clock.Advance(time.Minute)
		return r
	}
	t.Run("x-ratelimit-reset", func(t *testing.T) {
		r := setup(t, fakepipedrive.Options{})
		// Retry-After stripped: only Pipedrive's own header is left (reset 2).
		r.gate.set(nil, "Retry-After")
		r.fake.Fail("/api/v2/persons", 2, fakepipedrive.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
		st, evs, err := r.pollOne("contacts")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.sleep.recorded(); !slices.Equal(got, []time.Duration{2 * time.Second, 2 * time.Second}) {
			t.Errorf("waits %v, want the x-ratelimit-reset of 2s twice", got)
		}
		if len(evs) != 2 || st.Pages != 2 || st.Events != 2 {
			t.Errorf("after waiting: %d events, status %+v", len(evs), st)
		}
	})
	t.Run("Retry-After", func(t *testing.T) {
		r := setup(t, fakepipedrive.Options{})
		r.fake.Fail("/api/v2/persons", 1, fakepipedrive.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
		_, evs, err := r.pollOne("contacts")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.sleep.recorded(); !slices.Equal(got, []time.Duration{7 * time.Second}) || len(evs) != 2 {
			t.Errorf("waits %v, %d events", got, len(evs))
		}
	})
	t.Run("burst window spent", func(t *testing.T) {
		r := setup(t, fakepipedrive.Options{Burst: 1})
		_, evs, err := r.pollOne("contacts")
		if err != nil {
			t.Fatal(err)
		}
		// Each answer says remaining 0: the poller waits out the window
		// before the next page instead of running into a 429.
		for _, w := range r.sleep.recorded() {
			if w != 2*time.Second {
				t.Errorf("waits %v, want 2s each", r.sleep.recorded())
			}
		}
		if len(r.sleep.recorded()) == 0 || len(evs) != 2 {
			t.Errorf("waits %v, %d events", r.sleep.recorded(), len(evs))
		}
	})
	t.Run("never lifts", func(t *testing.T) {
		r := setup(t, fakepipedrive.Options{Burst: 1})
		r.sleep.frozen = true // waiting does not move the clock: the window never resets
		_, _, err := r.pollOne("contacts")
		if err == nil || !strings.Contains(err.Error(), "rate limited (429)") {
			t.Fatalf("err = %v", err)
		}
		if n := len(r.sleep.recorded()); n > 10 {
			t.Errorf("%d waits: the poller should give up after a few", n)
		}
	})
	t.Run("wait too long", func(t *testing.T) {
		r := setup(t, fakepipedrive.Options{})
		r.fake.Fail("/api/v2/persons", 1, fakepipedrive.Fault{Status: http.StatusTooManyRequests, RetryAfter: 10 * time.Minute})
		_, _, err := r.pollOne("contacts")
		if err == nil || !strings.Contains(err.Error(), "vendor asks to wait 10m0s") {
			t.Fatalf("err = %v", err)
		}
		if len(r.sleep.recorded()) != 0 {
			t.Errorf("waited %v", r.sleep.recorded())
		}
	})
}

// The where clause is applied to every record, whatever the vendor
// filtered: here name='Ada' is not something Pipedrive can filter on.
func TestPipedriveWhereClauseOnAnotherField(t *testing.T) {
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(pdContacts(100, "name='Ada'")))})
	r.clock.Advance(time.Minute)
	ada := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Ada"})
	r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Bob"})
	r.clock.Advance(time.Minute)
	st, evs, err := r.pollOne("contacts")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + ada.ID: model.Created})
	if st.Records != 2 || st.Events != 1 {
		t.Errorf("status %+v", st)
	}
	// The comparison on the updated field was still pushed down.
	q := r.requests("/api/v2/persons")[0].URL.Query()
	if q.Get("updated_since") != "2026-03-01T09:59:00Z" || q.Has("name") {
		t.Errorf("query %v", q)
	}
}

// A plain vendor URL is called as-is; records it did not filter by date
// are dropped by the since rule, and an api_token in the URL never reaches
// the status.
func TestPipedrivePlainVendorURL(t *testing.T) {
	cfg := `{"leads":{"url":"/leads?api_token=` + fakepipedrive.DefaultAPIToken + `","idField":"id","pageSize":2,` +
		`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSXXX",` +
		`"createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}}}`
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(cfg))})
	r.clock.Advance(-time.Hour)
	old := r.fake.Create(fakepipedrive.KindLead, map[string]any{"title": "old"})
	r.fake.Create(fakepipedrive.KindLead, map[string]any{"title": "old 2"})
	r.clock.Advance(time.Hour + time.Minute)
	lead := r.fake.Create(fakepipedrive.KindLead, map[string]any{"title": "new"})
	r.clock.Advance(time.Minute)
	st, evs, err := r.pollOne("leads")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"leads/" + lead.ID: model.Created})
	if st.Pages != 2 || st.Records != 3 || st.Events != 1 || len(st.Warnings) != 0 {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(st.LastURL, "api_token=REDACTED") || strings.Contains(st.LastURL, fakepipedrive.DefaultAPIToken) ||
		!strings.Contains(st.LastURL, "/v1/leads?") || !strings.Contains(st.LastURL, "start=2") {
		t.Errorf("lastUrl %q", st.LastURL)
	}
	reqs := r.requests("/v1/leads")
	if len(reqs) != 2 || reqs[0].URL.Query().Get("limit") != "2" || reqs[0].URL.Query().Has("updated_since") {
		t.Errorf("lead requests %v", reqs)
	}
	_ = old
}

// Leads (hub URL) go through GET /v1/leads with updated_since.
func TestPipedriveLeadsHub(t *testing.T) {
	cfg := `{"leads":{"url":"/hubs/crm/leads?where=update_time>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSXXX}'","idField":"id",` +
		`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSXXX",` +
		`"createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}}}`
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(cfg))})
	r.clock.Advance(-time.Hour)
	r.fake.Create(fakepipedrive.KindLead, map[string]any{"title": "old"})
	r.clock.Advance(time.Hour + time.Minute + 250*time.Millisecond)
	lead := r.fake.Create(fakepipedrive.KindLead, map[string]any{"title": "new"})
	r.clock.Advance(time.Minute)
	st, evs, err := r.pollOne("leads")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"leads/" + lead.ID: model.Created})
	if len(st.Warnings) != 0 || st.Records != 1 {
		t.Errorf("status %+v", st)
	}
	q := r.requests("/v1/leads")[0].URL.Query()
	if q.Get("updated_since") != "2026-03-01T09:59:00Z" || q.Get("limit") != "100" {
		t.Errorf("query %v", q)
	}
	r.clock.Advance(time.Minute)
	if _, err := r.fake.Update(fakepipedrive.KindLead, lead.ID, map[string]any{"title": "newer"}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	_, evs, err = r.pollOne("leads")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"leads/" + lead.ID: model.Updated})
	if !evs[0].Date.Equal(t0.Add(3*time.Minute + 250*time.Millisecond)) {
		t.Errorf("lead date %s keeps the milliseconds", evs[0].Date)
	}
}

// The seed's email and password are exchanged once for an API token, which
// is stored on the instance.
func TestPipedriveEmailPasswordLogin(t *testing.T) {
	fo := fakepipedrive.Options{Email: "ops@example.com", Password: "pd-Secret-Pass-1"}
	r := newPipedriveRigWith(t, fo, rigOptions{})
	if _, ok := r.inst.Configuration["pipedrive.api.token"]; ok {
		t.Fatal("the seed should have no token")
	}
	r.clock.Advance(time.Minute)
	p := r.fake.Create(fakepipedrive.KindPerson, nil)
	r.clock.Advance(time.Minute)
	_, evs := r.pollAll(t)
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + p.ID: model.Created})
	logins := r.requests("/v1/authorizations")
	if len(logins) != 1 || logins[0].Method != http.MethodPost || !strings.Contains(string(logins[0].Body), `"email":"ops@example.com"`) {
		t.Fatalf("logins %+v", logins)
	}
	in, err := r.st.Instance(t.Context(), r.inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.Configuration["pipedrive.api.token"] != fakepipedrive.DefaultAPIToken {
		t.Errorf("stored token %q", in.Configuration["pipedrive.api.token"])
	}
	for _, rr := range r.requests("/api/v2/") {
		if rr.Header.Get("x-api-token") != fakepipedrive.DefaultAPIToken {
			t.Errorf("%s without the token", rr.URL)
		}
	}
	r.clock.Advance(time.Minute)
	r.pollAll(t)
	if n := len(r.requests("/v1/authorizations")); n != 1 {
		t.Errorf("%d logins, want the stored token reused", n)
	}

	t.Run("wrong password", func(t *testing.T) {
		fo := fakepipedrive.Options{Email: "ops@example.com", Password: "something else"}
		r := newPipedriveRigWith(t, fo, rigOptions{})
		_, _, err := r.pollOne("contacts")
		if err == nil || !strings.Contains(err.Error(), "credentials rejected") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "pd-Secret-Pass-1") {
			t.Errorf("error leaks the password: %v", err)
		}
		// The scheduler backs off on it; the cause stays inspectable.
		if !errors.Is(err, poll.ErrCredentialsRejected) || !errors.Is(err, pipedrive.ErrCredentialsRejected) {
			t.Errorf("err %v does not wrap both ErrCredentialsRejected", err)
		}
		if !strings.Contains(err.Error(), "pipedrive.api.token") {
			t.Errorf("err %v does not point at pipedrive.api.token", err)
		}
		in, _ := r.st.Instance(t.Context(), r.inst.ID)
		if tok := in.Configuration["pipedrive.api.token"]; tok != "" {
			t.Errorf("a refused login stored token %q", tok)
		}
	})

	// A login that cannot connect says so: a connection problem, not the
	// credentials, and no advice to set a token (which would not connect
	// either).
	t.Run("login cannot connect", func(t *testing.T) {
		r := newPipedriveRigWith(t, fo, rigOptions{})
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		if _, err := r.st.UpdateInstance(t.Context(), r.inst.ID, func(cur model.Instance) (model.Instance, error) {
			cur.Configuration[model.KeyBaseURL] = dead.URL + "/v1"
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, _, err := r.pollOne("contacts")
		if err == nil || !strings.Contains(err.Error(), "could not connect to Pipedrive") || !strings.Contains(err.Error(), "not the credentials") ||
			!strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "set pipedrive.api.token") || errors.Is(err, poll.ErrCredentialsRejected) {
			t.Errorf("a connection failure reads as a credentials problem: %v", err)
		}
	})

	// A vendor that cannot answer the login is not a refusal of the
	// credentials: the scheduler retries as for any failure, and the next
	// poll logs in.
	t.Run("login unavailable", func(t *testing.T) {
		r := newPipedriveRigWith(t, fo, rigOptions{})
		r.fake.Fail("/v1/authorizations", 1, fakepipedrive.Status(http.StatusServiceUnavailable))
		_, _, err := r.pollOne("contacts")
		if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "says nothing about the credentials") {
			t.Fatalf("err = %v", err)
		}
		if errors.Is(err, poll.ErrCredentialsRejected) {
			t.Errorf("a 503 at login counts as rejected credentials: %v", err)
		}
		if _, _, err := r.pollOne("contacts"); err != nil {
			t.Fatalf("second poll: %v", err)
		}
		in, _ := r.st.Instance(t.Context(), r.inst.ID)
		if tok := in.Configuration["pipedrive.api.token"]; tok != fakepipedrive.DefaultAPIToken {
			t.Errorf("stored token %q after the login recovered", tok)
		}
	})
}

// Re-enabling events does not report what changed while they were off.
func TestPipedriveReenableStartsFresh(t *testing.T) {
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(pdContacts(100, "")))})
	r.clock.Advance(time.Minute)
	if _, _, err := r.pollOne("contacts"); err != nil {
		t.Fatal(err)
	}
	patch := func(enabled string) {
		t.Helper()
		_, err := r.st.UpdateInstance(t.Context(), r.inst.ID, func(cur model.Instance) (model.Instance, error) {
			return cur.Patch(model.InstanceRequest{Configuration: map[string]json.RawMessage{"event.notification.enabled": jsonString(enabled)}}, r.clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	patch("false")
	r.clock.Advance(time.Hour)
	r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "while off"})
	r.clock.Advance(time.Hour)
	patch("true")
	r.clock.Advance(time.Minute)
	on := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "after on"})
	r.clock.Advance(time.Minute)
	_, evs, err := r.pollOne("contacts")
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs, map[string]model.EventType{"contacts/" + on.ID: model.Created})
}

// A vendor that echoes the request's token in its error answer does not put
// the token into the error, lastError or the log: the instance's secrets
// are scrubbed from every vendor error text, and the error still says what
// kind of failure it was.
func TestVendorErrorEchoingTheTokenIsScrubbed(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusInternalServerError} {
		r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(pdContacts(1, "")))})
		r.gate.set(func(w http.ResponseWriter, req *http.Request) bool {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"success":false,"error":"token ` + req.Header.Get("x-api-token") + ` is not valid here"}`))
			return true
		})
		in, _ := r.st.Instance(t.Context(), r.inst.ID)
		st, _, err := r.p.Poll(context.Background(), in, "contacts", true)
		if err == nil {
			t.Fatalf("%d: the poll succeeded", status)
		}
		stored, _ := r.st.PollStatus(t.Context(), r.inst.ID, "contacts")
		for _, text := range []string{err.Error(), st.LastError, stored.LastError} {
			if strings.Contains(text, fakepipedrive.DefaultAPIToken) {
				t.Errorf("%d: the vendor's echo of the token is shown: %s", status, text)
			}
			if !strings.Contains(text, "token ******** is not valid here") {
				t.Errorf("%d: the vendor's message is lost: %s", status, text)
			}
		}
		if status == http.StatusUnauthorized && !errors.Is(err, poll.ErrCredentialsRejected) {
			t.Errorf("a scrubbed 401 no longer wraps ErrCredentialsRejected: %v", err)
		}
	}
}

// A date pattern the operator set that the vendor's dates do not match is
// still a warning (the dates are read as ISO 8601); only the element's own
// default pattern is quiet about the vendor's documented format.
func TestOperatorDatePatternMismatchWarns(t *testing.T) {
	cfg := `{"contacts":{"url":"/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'","idField":"id",` +
		`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"dd/MM/yyyy HH:mm",` +
		`"createdDateField":"add_time","createdDateFormat":"dd/MM/yyyy HH:mm"}}}`
	r := newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(cfg))})
	r.clock.Advance(time.Minute)
	r.fake.Create(fakepipedrive.KindPerson, nil)
	r.clock.Advance(time.Minute)
	st, evs, err := r.pollOne("contacts")
	if err != nil || len(evs) != 1 {
		t.Fatalf("poll: %d events, %v", len(evs), err)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], `does not match updatedDateFormat "dd/MM/yyyy HH:mm"; read as ISO 8601`) {
		t.Errorf("warnings %q, want the operator's pattern named", st.Warnings)
	}
}
