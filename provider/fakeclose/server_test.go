package fakeclose

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts Options) (*Server, *httptest.Server, *FakeClock) {
	t.Helper()
	clk := NewClock(t0)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts, clk
}

type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request authenticated with the default key unless user is
// given ("-" sends no credentials).
func do(t *testing.T, method, u string, body string, user ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(user) == 0:
		req.SetBasicAuth(DefaultAPIKey, "")
	case user[0] == "-":
	default:
		pass := ""
		if len(user) > 1 {
			pass = user[1]
		}
		req.SetBasicAuth(user[0], pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, u, raw, err)
	}
	return a
}

func get(t *testing.T, u string) answer { t.Helper(); return do(t, "GET", u, "") }

func mustStatus(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d; body %s", a.status, want, a.raw)
	}
}

func data(a answer) []any { d, _ := a.body["data"].([]any); return d }

func ids(a answer) []string {
	var out []string
	for _, it := range data(a) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

var rateLimitRE = regexp.MustCompile(`^limit=(\d+), remaining=(\d+), reset=(\d+)$`)

func TestAuthAndRouting(t *testing.T) {
	_, ts, _ := setup(t, Options{})
	for _, tc := range []struct {
		name   string
		path   string
		user   []string
		status int
	}{
		{"no credentials", "/api/v1/lead/", []string{"-"}, 401},
		{"wrong key", "/api/v1/lead/", []string{"nope"}, 401},
		{"non-empty password", "/api/v1/lead/", []string{DefaultAPIKey, "x"}, 401},
		{"ok", "/api/v1/lead/", nil, 200},
		{"no trailing slash", "/api/v1/lead", nil, 200},
		{"server root base", "/opportunity/", nil, 200},
		{"me", "/api/v1/me/", nil, 200},
		{"unknown", "/api/v1/activity/", nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, "GET", ts.URL+tc.path, "", tc.user...)
			mustStatus(t, a, tc.status)
			if !rateLimitRE.MatchString(a.header.Get("RateLimit")) {
				t.Errorf("RateLimit header %q", a.header.Get("RateLimit"))
			}
			if tc.status == 401 && a.body["error"] == nil {
				t.Errorf("401 body %s", a.raw)
			}
		})
	}
	mustStatus(t, do(t, "DELETE", ts.URL+"/api/v1/lead/", ""), 405)
}

func TestSkipPagingToTheEnd(t *testing.T) {
	s, ts, _ := setup(t, Options{SkipMax: 1000})
	s.Generate(KindLead, 250)
	var all []string
	for skip, pages := 0, 0; ; pages++ {
		a := get(t, ts.URL+"/api/v1/lead/?_limit=500&_skip="+strconv.Itoa(skip))
		mustStatus(t, a, 200)
		got := ids(a)
		if len(got) > 100 {
			t.Fatalf("_limit not capped: %d", len(got))
		}
		all = append(all, got...)
		skip += len(got)
		if a.body["has_more"] != true {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if !reflect.DeepEqual(all, s.IDs(KindLead)) {
		t.Fatalf("paged %d leads, want %d in creation order", len(all), s.Count(KindLead))
	}
	a := get(t, ts.URL+"/api/v1/lead/?_skip=1001")
	mustStatus(t, a, 400)
	if _, ok := a.body["field-errors"].(map[string]any)["_skip"]; !ok {
		t.Errorf("400 body %s", a.raw)
	}
	mustStatus(t, get(t, ts.URL+"/api/v1/lead/?_limit=x"), 400)

	// Contacts filter by lead_id.
	lead := s.Create(KindLead, map[string]any{"name": "Mine"})
	c1 := s.Create(KindContact, map[string]any{"name": "A", "lead_id": lead.ID})
	c2 := s.Create(KindContact, map[string]any{"name": "B", "lead_id": lead.ID})
	s.Generate(KindContact, 20)
	a = get(t, ts.URL+"/api/v1/contact/?lead_id="+lead.ID)
	if got := ids(a); !reflect.DeepEqual(got, []string{c1.ID, c2.ID}) || a.body["has_more"] != false {
		t.Errorf("contacts of lead: %v", got)
	}
	a = get(t, ts.URL+"/api/v1/contact/")
	if len(data(a)) != 22 {
		t.Errorf("contacts: %d", len(data(a)))
	}
}

func TestOpportunityFilters(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	var opp []Record
	for i := range 5 {
		opp = append(opp, s.Create(KindOpportunity, map[string]any{"note": "o" + strconv.Itoa(i), "value": 150000}))
		clk.Advance(time.Minute)
	}
	if f := opp[0].Fields(); f["value_formatted"] != "$1,500" || f["lead_name"] != "Lead for opportunity" {
		t.Errorf("opportunity %v", f)
	}
	if _, err := s.Update(KindOpportunity, opp[0].ID, map[string]any{"status_type": "won"}); err != nil {
		t.Fatal(err)
	}
	// Update order: 1,2,3,4,0.
	gt := t0.Add(time.Minute).Format("2006-01-02T15:04:05.000000+00:00")
	q := url.Values{"date_updated__gt": {gt}, "_order_by": {"date_updated"}}
	a := get(t, ts.URL+"/api/v1/opportunity/?"+q.Encode())
	want := []string{opp[2].ID, opp[3].ID, opp[4].ID, opp[0].ID}
	if got := ids(a); !reflect.DeepEqual(got, want) || a.body["total_results"] != float64(4) {
		t.Errorf("__gt: %v (%v)", got, a.body["total_results"])
	}
	q.Set("date_updated__gte", gt)
	q.Del("date_updated__gt")
	if got := ids(get(t, ts.URL+"/api/v1/opportunity/?"+q.Encode())); len(got) != 5 || got[0] != opp[1].ID {
		t.Errorf("__gte: %v", got)
	}
	// An unescaped "+" in the offset (read as a space) still works.
	a = get(t, ts.URL+"/api/v1/opportunity/?_order_by=-date_updated&date_updated__gt="+gt)
	if got := ids(a); !reflect.DeepEqual(got, []string{opp[0].ID, opp[4].ID, opp[3].ID, opp[2].ID}) {
		t.Errorf("-date_updated: %v", got)
	}
	a = get(t, ts.URL+"/api/v1/opportunity/?status_type=won")
	if got := ids(a); !reflect.DeepEqual(got, []string{opp[0].ID}) {
		t.Errorf("status_type: %v", got)
	}
	if f := s.mustGet(t, KindOpportunity, opp[0].ID); f["status_label"] != "Won" {
		t.Errorf("won opportunity %v", f)
	}
	// Paging with filters and skip.
	a = get(t, ts.URL+"/api/v1/opportunity/?_order_by=date_updated&date_updated__gte="+url.QueryEscape(gt)+"&_limit=2&_skip=2")
	if got := ids(a); !reflect.DeepEqual(got, []string{opp[3].ID, opp[4].ID}) || a.body["has_more"] != true {
		t.Errorf("skip 2: %v %v", got, a.body["has_more"])
	}
	a = get(t, ts.URL+"/api/v1/opportunity/?_order_by=date_created&_limit=2&_skip=4")
	if got := ids(a); !reflect.DeepEqual(got, []string{opp[4].ID}) || a.body["has_more"] != false {
		t.Errorf("last page: %v", got)
	}
	mustStatus(t, get(t, ts.URL+"/api/v1/opportunity/?_order_by=value"), 400)
	mustStatus(t, get(t, ts.URL+"/api/v1/opportunity/?date_updated__gt=soon"), 400)
}

func (s *Server) mustGet(t *testing.T, kind, id string) map[string]any {
	t.Helper()
	r, ok := s.Get(kind, id)
	if !ok {
		t.Fatalf("%s %s missing", kind, id)
	}
	return r.Fields()
}

var objectTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)

func TestRecordShapesAndGetOne(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	for _, kind := range kinds {
		s.Generate(kind, 2)
		fields := map[string]any{"name": "Created"}
		if kind == KindOpportunity {
			fields = map[string]any{"note": "Created"}
		}
		created := s.Create(kind, fields)
		gen := s.mustGet(t, kind, s.IDs(kind)[0])
		if !reflect.DeepEqual(keys(gen), keys(created.Fields())) {
			t.Errorf("%s: generated keys %v, created keys %v", kind, keys(gen), keys(created.Fields()))
		}
		id := gen["id"].(string)
		if !strings.HasPrefix(id, idPrefixes[kind]) || len(id) != len(idPrefixes[kind])+43 {
			t.Errorf("id %q", id)
		}
		if !objectTime.MatchString(gen["date_created"].(string)) || !objectTime.MatchString(created.Fields()["date_updated"].(string)) {
			t.Errorf("dates %v", gen["date_created"])
		}
		a := get(t, ts.URL+"/api/v1/"+kind+"/"+id+"/")
		mustStatus(t, a, 200)
		if a.body["id"] != id {
			t.Errorf("get one: %s", a.raw)
		}
		mustStatus(t, get(t, ts.URL+"/api/v1/"+kind+"/"+idPrefixes[kind]+"nope/"), 404)
		if err := s.Delete(kind, id); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, get(t, ts.URL+"/api/v1/"+kind+"/"+id+"/"), 404)
		if err := s.Delete(kind, id); err != ErrNotFound {
			t.Errorf("second delete: %v", err)
		}
	}
	if _, err := s.Update(KindLead, "lead_nope", nil); err != ErrNotFound {
		t.Errorf("update unknown: %v", err)
	}
	c := s.mustGet(t, KindContact, s.IDs(KindContact)[0])
	if s.Count(KindLead) < 1 || c["lead_id"] == nil {
		t.Errorf("contact without lead: %v", c)
	}
	r := s.Create(KindLead, map[string]any{"name": "Backdated", "date_created": t0.Add(-time.Hour)})
	if r.Fields()["date_created"] != "2024-03-01T09:00:00.000000+00:00" || !r.DateCreated.Equal(t0.Add(-time.Hour)) {
		t.Errorf("backdated %v", r.Fields()["date_created"])
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
