package fakepipedrive

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// setup starts a fake on a test server with a fake clock at t0.
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

// do sends a request with the default token unless hdr overrides it.
func do(t *testing.T, method, u string, body io.Reader, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-token", DefaultAPIToken)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
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

func get(t *testing.T, u string) answer { t.Helper(); return do(t, "GET", u, nil, nil) }

func mustStatus(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d; body %s", a.status, want, a.raw)
	}
}

func data(a answer) []any { d, _ := a.body["data"].([]any); return d }

func nextCursor(a answer) string {
	c, _ := a.body["additional_data"].(map[string]any)["next_cursor"].(string)
	return c
}

func TestAuth(t *testing.T) {
	_, ts, _ := setup(t, Options{})
	unauth := `{"success":false,"error":"unauthorized access","errorCode":401}`
	for _, tc := range []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
	}{
		{"no token v2", "/api/v2/persons", map[string]string{"x-api-token": ""}, 401},
		{"wrong token v2", "/api/v2/persons", map[string]string{"x-api-token": "nope"}, 401},
		{"header v2", "/api/v2/persons", nil, 200},
		{"query token refused on v2", "/api/v2/persons?api_token=" + DefaultAPIToken, map[string]string{"x-api-token": ""}, 401},
		{"query token on v1", "/v1/leads?api_token=" + DefaultAPIToken, map[string]string{"x-api-token": ""}, 200},
		{"wrong query token on v1", "/v1/leads?api_token=x", map[string]string{"x-api-token": ""}, 401},
		{"api/v1 alias", "/api/v1/leads", nil, 200},
		{"users/me", "/v1/users/me", nil, 200},
		{"webhooks needs token", "/v1/webhooks", map[string]string{"x-api-token": ""}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, "GET", ts.URL+tc.path, nil, tc.hdr)
			mustStatus(t, a, tc.status)
			if tc.status == 401 && string(a.raw) != unauth {
				t.Errorf("401 body %s, want %s", a.raw, unauth)
			}
			for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-daily-requests-left"} {
				if a.header.Get(h) == "" {
					t.Errorf("missing header %s", h)
				}
			}
		})
	}
	a := get(t, ts.URL+"/api/v2/nothing")
	mustStatus(t, a, 404)
	a = do(t, "POST", ts.URL+"/api/v2/persons", nil, nil)
	mustStatus(t, a, 405)
}

func TestAuthorizations(t *testing.T) {
	_, ts, _ := setup(t, Options{APIToken: "tok123", Email: "a@b.example", Password: "pw"})
	a := do(t, "POST", ts.URL+"/v1/authorizations", strings.NewReader(`{"email":"a@b.example","password":"pw"}`),
		map[string]string{"Content-Type": "application/json", "x-api-token": ""})
	mustStatus(t, a, 200)
	d := data(a)[0].(map[string]any)
	if d["api_token"] != "tok123" || d["company_id"] != float64(1) || a.body["success"] != true {
		t.Errorf("answer %s", a.raw)
	}
	a = do(t, "POST", ts.URL+"/api/v1/authorizations", strings.NewReader(url.Values{"email": {"a@b.example"}, "password": {"pw"}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "x-api-token": ""})
	mustStatus(t, a, 200)
	a = do(t, "POST", ts.URL+"/v1/authorizations", strings.NewReader(`{"email":"a@b.example","password":"bad"}`),
		map[string]string{"Content-Type": "application/json", "x-api-token": ""})
	mustStatus(t, a, 401)
	if a.body["error"] != "unauthorized access" {
		t.Errorf("401 body %s", a.raw)
	}

	_, ts2, _ := setup(t, Options{}) // no Email: exchange disabled
	a = do(t, "POST", ts2.URL+"/v1/authorizations", strings.NewReader(`{"email":"","password":""}`), nil)
	mustStatus(t, a, 401)
}

// pageAll follows next_cursor to the end and returns the ids in order.
func pageAll(t *testing.T, base string, q url.Values) (ids []int, pages int) {
	t.Helper()
	cursor := ""
	seen := map[string]bool{}
	for {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if cursor != "" {
			qq.Set("cursor", cursor)
		}
		a := get(t, base+"?"+qq.Encode())
		mustStatus(t, a, 200)
		pages++
		for _, it := range data(a) {
			ids = append(ids, int(it.(map[string]any)["id"].(float64)))
		}
		cursor = nextCursor(a)
		if cursor == "" {
			return ids, pages
		}
		if seen[cursor] {
			t.Fatalf("cursor %s repeated", cursor)
		}
		seen[cursor] = true
	}
}

func TestV2CursorPagingToTheEnd(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Generate(KindOrganization, 10)
	s.Generate(KindPerson, 250)
	ids, pages := pageAll(t, ts.URL+"/api/v2/persons", url.Values{})
	if len(ids) != 250 || pages != 3 || !sort.IntsAreSorted(ids) || ids[0] != 1 || ids[249] != 250 {
		t.Fatalf("got %d ids in %d pages", len(ids), pages)
	}
	ids, pages = pageAll(t, ts.URL+"/api/v2/persons", url.Values{"limit": {"500"}})
	if len(ids) != 250 || pages != 1 {
		t.Fatalf("limit 500: %d ids in %d pages", len(ids), pages)
	}
	ids, _ = pageAll(t, ts.URL+"/api/v2/persons", url.Values{"sort_direction": {"desc"}, "limit": {"7"}})
	if len(ids) != 250 || ids[0] != 250 || ids[249] != 1 {
		t.Fatalf("desc paging: %d ids, first %d", len(ids), ids[0])
	}

	// The cursor has Pipedrive's documented shape.
	a := get(t, ts.URL+"/api/v2/persons?limit=7")
	raw, err := base64.RawURLEncoding.DecodeString(nextCursor(a))
	if err != nil || string(raw) != `{"field":"id","fieldValue":7,"sortDirection":"asc","id":7}` {
		t.Fatalf("cursor decodes to %s (%v)", raw, err)
	}
	// The spec's own example cursor (standard alphabet, no padding) works.
	a = get(t, ts.URL+"/api/v2/persons?limit=2&cursor=eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6Nywic29ydERpcmVjdGlvbiI6ImFzYyIsImlkIjo3fQ")
	mustStatus(t, a, 200)
	if id := data(a)[0].(map[string]any)["id"]; id != float64(8) {
		t.Fatalf("after spec cursor: first id %v, want 8", id)
	}
}

func TestV2FiltersAndSort(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	var ids []string
	for i := range 6 {
		ids = append(ids, s.Create(KindDeal, map[string]any{"title": "d" + strconv.Itoa(i)}).ID)
		clk.Advance(time.Minute)
	}
	// Touch deal 1 last, so update order is 2,3,4,5,6,1.
	if _, err := s.Update(KindDeal, ids[0], map[string]any{"value": 99}); err != nil {
		t.Fatal(err)
	}
	since := t0.Add(2 * time.Minute).Format(time.RFC3339) // deal 3 exactly: inclusive
	until := t0.Add(5 * time.Minute).Format(time.RFC3339) // deal 6 exactly: exclusive
	got, _ := pageAll(t, ts.URL+"/api/v2/deals", url.Values{
		"updated_since": {since}, "updated_until": {until}, "sort_by": {"update_time"}, "limit": {"1"}})
	if !reflect.DeepEqual(got, []int{3, 4, 5}) {
		t.Errorf("since/until: %v, want [3 4 5]", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"sort_by": {"update_time"}, "limit": {"2"}})
	if !reflect.DeepEqual(got, []int{2, 3, 4, 5, 6, 1}) {
		t.Errorf("update_time asc: %v", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"sort_by": {"update_time"}, "sort_direction": {"desc"}, "limit": {"4"}})
	if !reflect.DeepEqual(got, []int{1, 6, 5, 4, 3, 2}) {
		t.Errorf("update_time desc: %v", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"sort_by": {"add_time"}, "sort_direction": {"desc"}, "limit": {"4"}})
	if !reflect.DeepEqual(got, []int{6, 5, 4, 3, 2, 1}) {
		t.Errorf("add_time desc: %v", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"updated_since": {since}, "limit": {"2"}})
	if !reflect.DeepEqual(got, []int{1, 3, 4, 5, 6}) {
		t.Errorf("since by id: %v", got)
	}
	// The update_time cursor carries the time, in whole seconds.
	a := get(t, ts.URL+"/api/v2/deals?sort_by=update_time&limit=1")
	raw, _ := base64.RawURLEncoding.DecodeString(nextCursor(a))
	if string(raw) != `{"field":"update_time","fieldValue":"2024-03-01T10:01:00Z","sortDirection":"asc","id":2}` {
		t.Errorf("cursor %s", raw)
	}

	// Deleted deals appear only with status=deleted.
	if err := s.Delete(KindDeal, ids[1]); err != nil {
		t.Fatal(err)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{})
	if slices.Contains(got, 2) || len(got) != 5 {
		t.Errorf("default list has deleted deal: %v", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"status": {"deleted"}})
	if !reflect.DeepEqual(got, []int{2}) {
		t.Errorf("status=deleted: %v", got)
	}
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"status": {"open,deleted"}, "ids": {"1,2,3"}})
	if !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Errorf("status=open,deleted ids=1,2,3: %v", got)
	}
	a = get(t, ts.URL+"/api/v2/deals/2")
	mustStatus(t, a, 200)
	if a.body["data"].(map[string]any)["status"] != "deleted" {
		t.Errorf("deleted deal: %s", a.raw)
	}
	clk.Advance(31 * 24 * time.Hour)
	got, _ = pageAll(t, ts.URL+"/api/v2/deals", url.Values{"status": {"deleted"}})
	if len(got) != 0 {
		t.Errorf("deleted 31 days ago still listed: %v", got)
	}

	// owner_id filter.
	s.Create(KindPerson, map[string]any{"name": "Other Owner", "owner_id": 77})
	s.Create(KindPerson, map[string]any{"name": "Default Owner"})
	got, _ = pageAll(t, ts.URL+"/api/v2/persons", url.Values{"owner_id": {"77"}})
	if !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("owner_id: %v", got)
	}
}

func TestV2Validation(t *testing.T) {
	_, ts, _ := setup(t, Options{PageLimitMax: 500})
	for _, q := range []string{
		"updated_since=2024-01-01T00:00:00.000Z",
		"updated_since=2024-01-01",
		"updated_until=yesterday",
		"limit=501",
		"limit=0",
		"limit=x",
		"sort_by=name",
		"sort_direction=up",
		"cursor=bm9wZQ",
		"owner_id=abc",
	} {
		a := get(t, ts.URL+"/api/v2/persons?"+q)
		if a.status != 400 || a.body["success"] != false {
			t.Errorf("%s: %d %s", q, a.status, a.raw)
		}
	}
	mustStatus(t, get(t, ts.URL+"/api/v2/persons?updated_since=2024-01-01T00:00:00Z&limit=500"), 200)
}

func TestRecordShapes(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	for _, kind := range kinds {
		s.Generate(kind, 1)
		gen := s.Create(kind, nil) // ids differ; key sets must not
		ids := s.IDs(kind)
		g, _ := s.Get(kind, ids[0])
		if !reflect.DeepEqual(keys(g.Fields()), keys(gen.Fields())) {
			t.Errorf("%s: generated keys %v, created keys %v", kind, keys(g.Fields()), keys(gen.Fields()))
		}
	}
	a := get(t, ts.URL+"/api/v2/persons")
	p := data(a)[0].(map[string]any)
	for _, k := range []string{"id", "name", "first_name", "last_name", "owner_id", "org_id", "add_time", "update_time",
		"emails", "phones", "is_deleted", "visible_to", "custom_fields"} {
		if _, ok := p[k]; !ok {
			t.Errorf("person lacks %s: %v", k, p)
		}
	}
	if p["update_time"] != "2024-03-01T10:00:00Z" {
		t.Errorf("update_time %v", p["update_time"])
	}
	o := data(get(t, ts.URL+"/api/v2/organizations"))
	if len(o) != 2 || o[0].(map[string]any)["name"] == "" {
		t.Errorf("organizations %v", o)
	}
	d := data(get(t, ts.URL+"/api/v2/deals"))[0].(map[string]any)
	for _, k := range []string{"title", "status", "value", "currency", "is_deleted", "is_archived"} {
		if _, ok := d[k]; !ok {
			t.Errorf("deal lacks %s", k)
		}
	}
	// Create honours given times and keeps name parts consistent.
	r := s.Create(KindPerson, map[string]any{"name": "Jane Roe", "add_time": t0.Add(-time.Hour)})
	f := r.Fields()
	if f["first_name"] != "Jane" || f["last_name"] != "Roe" || f["add_time"] != "2024-03-01T09:00:00Z" || !r.AddTime.Equal(t0.Add(-time.Hour)) {
		t.Errorf("created person %v", f)
	}
	a = get(t, ts.URL+"/api/v2/persons/"+r.ID)
	mustStatus(t, a, 200)
	mustStatus(t, get(t, ts.URL+"/api/v2/persons/999"), 404)
	if err := s.Delete(KindPerson, r.ID); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, get(t, ts.URL+"/api/v2/persons/"+r.ID), 404)
	if err := s.Delete(KindPerson, r.ID); err != ErrNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Update(KindPerson, "12345", nil); err != ErrNotFound {
		t.Errorf("update unknown: %v", err)
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

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLeads(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	s.Generate(KindLead, 230)
	clk.Advance(1500 * time.Millisecond)
	late := s.Create(KindLead, map[string]any{"title": "Late lead"})
	var all []string
	start := 0
	for pages := 0; ; pages++ {
		a := get(t, ts.URL+"/v1/leads?limit=100&start="+strconv.Itoa(start))
		mustStatus(t, a, 200)
		for _, it := range data(a) {
			all = append(all, it.(map[string]any)["id"].(string))
		}
		pg := a.body["additional_data"].(map[string]any)["pagination"].(map[string]any)
		if pg["start"] != float64(start) || pg["limit"] != float64(100) {
			t.Fatalf("pagination %v", pg)
		}
		if pg["more_items_in_collection"] != true {
			if _, ok := pg["next_start"]; ok {
				t.Errorf("next_start on the last page")
			}
			break
		}
		start = int(pg["next_start"].(float64))
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if len(all) != 231 || all[230] != late.ID || !uuidRE.MatchString(all[0]) {
		t.Fatalf("%d leads, last %s", len(all), all[len(all)-1])
	}
	lf := late.Fields()
	if lf["add_time"] != "2024-03-01T10:00:01.500Z" {
		t.Errorf("lead add_time %v", lf["add_time"])
	}
	a := get(t, ts.URL+"/v1/leads?updated_since=2024-03-01T10:00:01Z")
	if d := data(a); len(d) != 1 || d[0].(map[string]any)["id"] != late.ID {
		t.Errorf("updated_since: %s", a.raw)
	}
	a = get(t, ts.URL+"/v1/leads?limit=1000")
	if len(data(a)) != 231 {
		t.Errorf("limit over max not capped to 500: %d", len(data(a)))
	}
	mustStatus(t, get(t, ts.URL+"/v1/leads/"+late.ID), 200)
	mustStatus(t, get(t, ts.URL+"/v1/leads/nope"), 404)
	mustStatus(t, get(t, ts.URL+"/v1/leads?updated_since=bad"), 400)
	if err := s.Delete(KindLead, late.ID); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, get(t, ts.URL+"/v1/leads/"+late.ID), 404)
	if _, ok := s.Get(KindLead, late.ID); ok || s.Count(KindLead) != 230 {
		t.Errorf("deleted lead still there")
	}
}
