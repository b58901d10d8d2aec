package fakepipedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFaultStatuses(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Generate(KindPerson, 3)
	s.Fail("/api/v2/persons", 1, Status(429))
	s.Fail("/api/v2/persons", 1, Fault{Status: 503, RetryAfter: 5 * time.Second})
	s.Fail("/api/v2/persons", 1, Status(500))
	s.Fail("/api/v2/persons", 1, Status(401))
	s.Fail("/api/v2/deals", 1, Status(500)) // other prefix: untouched below

	a := get(t, ts.URL+"/api/v2/persons")
	mustStatus(t, a, 429)
	if a.header.Get("Retry-After") != "2" || a.header.Get("x-ratelimit-remaining") != "0" || a.header.Get("x-ratelimit-limit") == "" ||
		a.header.Get("x-ratelimit-reset") == "" || a.body["success"] != false {
		t.Errorf("429: %v %s", a.header, a.raw)
	}
	a = get(t, ts.URL+"/api/v2/persons")
	mustStatus(t, a, 503)
	if a.header.Get("Retry-After") != "5" {
		t.Errorf("503 Retry-After %q", a.header.Get("Retry-After"))
	}
	mustStatus(t, get(t, ts.URL+"/api/v2/persons"), 500)
	a = get(t, ts.URL+"/api/v2/persons")
	mustStatus(t, a, 401)
	if a.body["error"] != "unauthorized access" {
		t.Errorf("401 body %s", a.raw)
	}
	a = get(t, ts.URL+"/api/v2/persons")
	mustStatus(t, a, 200)
	if len(data(a)) != 3 {
		t.Errorf("after faults: %s", a.raw)
	}

	// n < 0 lasts until ClearFaults.
	s.Fail("/v1/", -1, Status(500))
	for range 3 {
		mustStatus(t, get(t, ts.URL+"/v1/leads"), 500)
	}
	s.ClearFaults()
	mustStatus(t, get(t, ts.URL+"/v1/leads"), 200)
	mustStatus(t, get(t, ts.URL+"/api/v2/deals"), 200) // cleared too
}

func TestFaultSlow(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Fail("/api/v2/", 1, Slow(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v2/persons", nil)
	req.Header.Set("x-api-token", DefaultAPIToken)
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow request: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the delay did not honour the context")
	}
	s.Fail("/api/v2/", 1, Slow(20*time.Millisecond))
	start = time.Now()
	mustStatus(t, get(t, ts.URL+"/api/v2/persons"), 200)
	if time.Since(start) < 20*time.Millisecond {
		t.Error("no delay")
	}
}

func TestFaultMalformed(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Generate(KindPerson, 5)
	s.Fail("/api/v2/persons", 1, Malformed())
	req, _ := http.NewRequest("GET", ts.URL+"/api/v2/persons", nil)
	req.Header.Set("x-api-token", DefaultAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v any
	if resp.StatusCode != 200 || json.Unmarshal(raw, &v) == nil || !strings.HasPrefix(string(raw), `{"success":true`) {
		t.Errorf("malformed answer %d %q", resp.StatusCode, raw)
	}
	mustStatus(t, get(t, ts.URL+"/api/v2/persons"), 200)
}

func TestFaultRepeatCursor(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Generate(KindPerson, 10)
	s.Generate(KindLead, 10)
	first := get(t, ts.URL+"/api/v2/persons?limit=3")
	c1 := nextCursor(first)
	s.Fail("/api/v2/persons", 1, RepeatCursor())
	second := get(t, ts.URL+"/api/v2/persons?limit=3&cursor="+url.QueryEscape(c1))
	if nextCursor(second) != c1 {
		t.Errorf("repeat cursor: got %q, want %q", nextCursor(second), c1)
	}
	third := get(t, ts.URL+"/api/v2/persons?limit=3&cursor="+url.QueryEscape(c1))
	if nextCursor(third) == c1 || nextCursor(third) == "" {
		t.Errorf("fault did not end")
	}

	s.Fail("/v1/leads", 1, RepeatCursor())
	a := get(t, ts.URL+"/v1/leads?start=8&limit=5")
	pg := a.body["additional_data"].(map[string]any)["pagination"].(map[string]any)
	if pg["more_items_in_collection"] != true || pg["next_start"] != float64(8) {
		t.Errorf("leads repeat: %v", pg)
	}
}

func TestBurstLimit(t *testing.T) {
	s, ts, clk := setup(t, Options{Burst: 3, DailyRequests: 100})
	for i := range 3 {
		a := get(t, ts.URL+"/api/v2/persons")
		mustStatus(t, a, 200)
		if a.header.Get("x-ratelimit-limit") != "3" || a.header.Get("x-ratelimit-remaining") != strconv.Itoa(2-i) ||
			a.header.Get("x-ratelimit-reset") != "2" || a.header.Get("x-daily-requests-left") != "100" {
			t.Errorf("request %d headers %v", i, a.header)
		}
	}
	a := get(t, ts.URL+"/api/v2/persons")
	mustStatus(t, a, 429)
	if a.header.Get("Retry-After") != "2" || a.header.Get("x-ratelimit-remaining") != "0" {
		t.Errorf("429 headers %v", a.header)
	}
	clk.Advance(2 * time.Second)
	a = register(t, ts, `{"subscription_url":"https://example.org","event_action":"*","event_object":"*","name":"x"}`)
	mustStatus(t, a, 201)
	if a.header.Get("x-daily-requests-left") != "99" {
		t.Errorf("daily left %q", a.header.Get("x-daily-requests-left"))
	}
	_ = s
}

func TestRequestLogAndBodyLimit(t *testing.T) {
	s, ts, clk := setup(t, Options{MaxRequestLog: 4})
	clk.Advance(time.Second)
	get(t, ts.URL+"/api/v2/persons?updated_since=2024-01-01T00:00:00Z&limit=500")
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "GET" || r.URL.Path != "/api/v2/persons" || r.URL.Query().Get("updated_since") != "2024-01-01T00:00:00Z" ||
		r.Header.Get("x-api-token") != DefaultAPIToken || !r.Time.Equal(t0.Add(time.Second)) {
		t.Errorf("logged %+v", r)
	}
	big := bytes.Repeat([]byte("a"), maxBodyBytes+1)
	a := do(t, "POST", ts.URL+"/v1/webhooks", bytes.NewReader(big), nil)
	mustStatus(t, a, 413)
	for range 5 {
		get(t, ts.URL+"/v1/leads")
	}
	if n := len(s.Requests()); n > 4 {
		t.Errorf("log not bounded: %d", n)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Error("reset failed")
	}
}

func TestConcurrentUse(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	s.Generate(KindPerson, 200)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				switch (g + i) % 4 {
				case 0:
					s.Create(KindPerson, map[string]any{"name": "New"})
				case 1:
					_, _ = s.Update(KindPerson, strconv.Itoa(1+i), map[string]any{"name": "Changed"})
				case 2:
					clk.Advance(time.Second)
				default:
					req, _ := http.NewRequest("GET", ts.URL+"/api/v2/persons?sort_by=update_time&limit=50", nil)
					req.Header.Set("x-api-token", DefaultAPIToken)
					if resp, err := http.DefaultClient.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}
		}()
	}
	wg.Wait()
	if s.Count(KindPerson) != 240 {
		t.Errorf("count %d", s.Count(KindPerson))
	}
}

// TestLargeStorePaging generates 100,000 records (largeN) and pages through
// them 500 at a time, both by id and by update_time from an updated_since.
func TestLargeStorePaging(t *testing.T) {
	if testing.Short() {
		t.Skip("large store test")
	}
	start := time.Now()
	s, ts, clk := setup(t, Options{})
	s.Generate(KindPerson, largeN)
	gen := time.Since(start)
	clk.Advance(time.Minute)
	for i := 1; i <= largeN; i += largeN / 100 { // 100 later updates
		if _, err := s.Update(KindPerson, strconv.Itoa(i), map[string]any{"name": "Updated"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q url.Values) (n, pages int) {
		cursor := ""
		for {
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			req, _ := http.NewRequest("GET", ts.URL+"/api/v2/persons?"+q.Encode(), nil)
			req.Header.Set("x-api-token", DefaultAPIToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Data           []struct{ ID int } `json:"data"`
				AdditionalData struct {
					NextCursor *string `json:"next_cursor"`
				} `json:"additional_data"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			n += len(page.Data)
			pages++
			if page.AdditionalData.NextCursor == nil {
				return n, pages
			}
			cursor = *page.AdditionalData.NextCursor
		}
	}
	n, pages := count(url.Values{"limit": {"500"}})
	if n != largeN || pages != largeN/500 {
		t.Errorf("by id: %d records in %d pages", n, pages)
	}
	n, pages = count(url.Values{"limit": {"500"}, "sort_by": {"update_time"},
		"updated_since": {t0.Add(time.Minute).Format(time.RFC3339)}})
	if n != 100 || pages != 1 {
		t.Errorf("since: %d records in %d pages", n, pages)
	}
	if d := time.Since(start); d > 10*time.Second { // generous: CI machines are shared
		t.Errorf("took %v (generate %v)", d, gen)
	}
	t.Logf("generate %v, total %v", gen, time.Since(start))
}
