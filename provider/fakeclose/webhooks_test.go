package fakeclose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSignTestVector(t *testing.T) {
	const key = "058bfb6a3d8cfdc4da7c3be5901b16ae11da982b46a25fb2cd7016e97a140a1c"
	body := []byte(`{"subscription_id":"whsub_test","event":{"id":"ev_1","object_type":"lead","action":"created","object_id":"lead_1"}}`)
	const want = "6a60782fee53001571fe3c922df7de224cf60290f76c45acb4af5d714ea8d409"
	if got := Sign(key, "1544271440", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !Verify(key, "1544271440", want, body) || Verify(key, "1544271441", want, body) || Verify("zz", "1", want, body) {
		t.Error("Verify")
	}
	if Sign("not hex", "1", body) != "" {
		t.Error("bad key must sign to empty")
	}
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestSubscriptionAPI(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	for _, bad := range []string{
		`{"events":[{"object_type":"lead","action":"created"}]}`,
		`{"url":"/relative","events":[{"object_type":"lead","action":"created"}]}`,
		`{"url":"https://example.org/hook"}`,
		`{"url":"https://example.org/hook","events":[]}`,
		`{"url":"https://example.org/hook","events":[{"object_type":"lead"}]}`,
		`not json`,
	} {
		a := do(t, "POST", ts.URL+"/api/v1/webhook/", bad)
		mustStatus(t, a, 400)
		if _, ok := a.body["field-errors"]; !ok {
			t.Errorf("400 body %s", a.raw)
		}
	}
	a := do(t, "POST", ts.URL+"/api/v1/webhook/", `{"url":"https://example.org/hook","events":[{"object_type":"lead","action":"created"},{"object_type":"contact","action":"updated"}]}`)
	mustStatus(t, a, 200)
	id, _ := a.body["id"].(string)
	if !strings.HasPrefix(id, "whsub_") || len(id) != 28 || a.body["url"] != "https://example.org/hook" || a.body["status"] != "active" ||
		a.body["verify_ssl"] != true || !hex64.MatchString(a.body["signature_key"].(string)) || len(a.body["events"].([]any)) != 2 {
		t.Errorf("create answer %s", a.raw)
	}
	b := do(t, "POST", ts.URL+"/api/v1/webhook/", `{"url":"https://example.org/2","events":[{"object_type":"lead","action":"deleted"}],"verify_ssl":false}`)
	if b.body["signature_key"] == a.body["signature_key"] || b.body["verify_ssl"] != false {
		t.Errorf("second subscription %s", b.raw)
	}
	l := get(t, ts.URL+"/api/v1/webhook/")
	if len(data(l)) != 2 || l.body["has_more"] != false {
		t.Errorf("list %s", l.raw)
	}
	g := get(t, ts.URL+"/api/v1/webhook/"+id+"/")
	mustStatus(t, g, 200)
	if g.body["signature_key"] != a.body["signature_key"] {
		t.Errorf("get %s", g.raw)
	}
	p := do(t, "PUT", ts.URL+"/api/v1/webhook/"+id+"/", `{"status":"paused"}`)
	if p.body["status"] != "paused" || s.Subscriptions()[0].Status != "paused" {
		t.Errorf("pause %s", p.raw)
	}
	mustStatus(t, do(t, "PUT", ts.URL+"/api/v1/webhook/"+id+"/", `{"status":"gone"}`), 400)
	d := do(t, "DELETE", ts.URL+"/api/v1/webhook/"+id+"/", "")
	mustStatus(t, d, 200)
	mustStatus(t, do(t, "DELETE", ts.URL+"/api/v1/webhook/"+id+"/", ""), 404)
	mustStatus(t, get(t, ts.URL+"/api/v1/webhook/whsub_nope/"), 404)
	if len(s.Subscriptions()) != 1 {
		t.Errorf("subscriptions %v", s.Subscriptions())
	}
}

type received struct {
	header http.Header
	body   []byte
}

// receiver verifies nothing itself: it reports what arrived and answers the
// given statuses in turn (then 200).
func receiver(t *testing.T, statuses ...int) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 100)
	n := 0
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- received{header: r.Header.Clone(), body: b}
		st := 200
		if n < len(statuses) {
			st = statuses[n]
		}
		n++ // one Flush posts sequentially
		w.WriteHeader(st)
	}))
	t.Cleanup(rs.Close)
	return rs, ch
}

func next(t *testing.T, ch <-chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	default:
		t.Fatal("no delivery received")
	}
	return received{}
}

func subscribe(t *testing.T, ts *httptest.Server, u string, events ...string) (id, key string) {
	t.Helper()
	var evs []map[string]string
	for _, e := range events {
		o, a, _ := strings.Cut(e, ".")
		evs = append(evs, map[string]string{"object_type": o, "action": a})
	}
	b, _ := json.Marshal(map[string]any{"url": u, "events": evs})
	a := do(t, "POST", ts.URL+"/api/v1/webhook/", string(b))
	mustStatus(t, a, 200)
	return a.body["id"].(string), a.body["signature_key"].(string)
}

func TestWebhookDelivery(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	rs, got := receiver(t)
	subID, key := subscribe(t, ts, rs.URL+"/hook", "lead.created", "opportunity.updated", "opportunity.deleted")
	lead := s.Create(KindLead, map[string]any{"name": "Acme"})
	o := s.Create(KindOpportunity, map[string]any{"lead_id": lead.ID, "value": 100000}) // opportunity.created: not subscribed
	clk.Advance(time.Minute)
	if _, err := s.Update(KindOpportunity, o.ID, map[string]any{"status_type": "won", "confidence": 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(KindOpportunity, o.ID); err != nil {
		t.Fatal(err)
	}
	s.Generate(KindLead, 3) // bulk import: no webhooks
	if s.Pending() != 3 {
		t.Fatalf("pending %d", s.Pending())
	}
	clk.Advance(5 * time.Second)
	res := s.Flush(context.Background())
	if len(res) != 3 {
		t.Fatalf("results %+v", res)
	}
	wantTS := strconv.FormatInt(t0.Add(time.Minute+5*time.Second).Unix(), 10)
	var actions []string
	for i := range 3 {
		r := next(t, got)
		sig, stamp := r.header.Get("close-sig-hash"), r.header.Get("close-sig-timestamp")
		if stamp != wantTS || !Verify(key, stamp, sig, r.body) || res[i].Signature != sig || res[i].Err != nil {
			t.Errorf("signature %q at %q (want ts %s): %+v", sig, stamp, wantTS, res[i])
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.header.Get("Content-Type"))
		}
		if !bytes.HasPrefix(r.body, []byte(`{"event":{`)) || !bytes.HasSuffix(r.body, []byte(`,"subscription_id":"`+subID+`"}`)) {
			t.Errorf("body %s", r.body)
		}
		var b struct {
			Event          map[string]any `json:"event"`
			SubscriptionID string         `json:"subscription_id"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, b.Event["object_type"].(string)+"."+b.Event["action"].(string))
		if b.Event["action"] == "updated" {
			d := b.Event["data"].(map[string]any)
			pd := b.Event["previous_data"].(map[string]any)
			if d["status_type"] != "won" || d["status_label"] != "Won" || pd["status_type"] != "active" || pd["confidence"] != float64(50) {
				t.Errorf("updated event %v", b.Event)
			}
		}
		if b.Event["action"] == "deleted" && b.Event["data"] != nil {
			t.Errorf("deleted with data: %v", b.Event)
		}
	}
	if strings.Join(actions, " ") != "lead.created opportunity.updated opportunity.deleted" {
		t.Errorf("delivered %v", actions)
	}

	// A paused subscription gets nothing.
	mustStatus(t, do(t, "PUT", ts.URL+"/api/v1/webhook/"+subID+"/", `{"status":"paused"}`), 200)
	s.Create(KindLead, nil)
	if s.Pending() != 0 || len(s.Flush(context.Background())) != 0 {
		t.Error("paused subscription got a delivery")
	}
}

func TestDeliveryRetries(t *testing.T) {
	s, ts, _ := setup(t, Options{MaxAttempts: 2})
	rs, got := receiver(t, 500, 502)
	subscribe(t, ts, rs.URL, "lead.created")
	s.Create(KindLead, nil)
	res := s.Flush(context.Background())
	if len(res) != 1 || res[0].StatusCode != 500 || !res[0].Requeued || s.Pending() != 1 {
		t.Fatalf("first %+v", res)
	}
	var de interface{ Error() string }
	if !errors.As(res[0].Err, &de) {
		t.Errorf("err %v", res[0].Err)
	}
	res = s.Flush(context.Background())
	if len(res) != 1 || res[0].Attempt != 2 || res[0].Requeued || s.Pending() != 0 {
		t.Fatalf("second %+v", res)
	}
	a, b := next(t, got), next(t, got)
	var ea, eb struct {
		Event struct{ ID string } `json:"event"`
	}
	_ = json.Unmarshal(a.body, &ea)
	_ = json.Unmarshal(b.body, &eb)
	if ea.Event.ID == "" || ea.Event.ID != eb.Event.ID {
		t.Errorf("retry changed the event id: %q %q", ea.Event.ID, eb.Event.ID)
	}
	// Cancelled context: stays queued.
	s.Create(KindLead, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := s.Flush(ctx); len(res) != 0 || s.Pending() != 1 {
		t.Errorf("cancelled: %+v", res)
	}
}

func TestAutoDeliver(t *testing.T) {
	results := make(chan DeliveryResult, 10)
	s, ts, _ := setup(t, Options{AutoDeliver: true, OnDelivery: func(r DeliveryResult) { results <- r }})
	rs, got := receiver(t)
	subscribe(t, ts, rs.URL, "contact.created", "lead.created")
	s.Create(KindContact, map[string]any{"name": "Auto"}) // and its lead
	for range 2 {
		select {
		case r := <-results:
			if r.Err != nil {
				t.Errorf("result %+v", r)
			}
		case <-time.After(10 * time.Second): // a safety net, not a wait
			t.Fatal("no auto delivery")
		}
	}
	next(t, got)
	next(t, got)
}

func TestFaults(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	s.Generate(KindLead, 10)
	s.Fail("/api/v1/lead", 1, Status(429))
	s.Fail("/api/v1/lead", 1, Fault{Status: 503, RetryAfter: 3 * time.Second})
	s.Fail("/api/v1/lead", 1, Status(500))
	s.Fail("/api/v1/lead", 1, Status(401))
	a := get(t, ts.URL+"/api/v1/lead/")
	mustStatus(t, a, 429)
	m := rateLimitRE.FindStringSubmatch(a.header.Get("RateLimit"))
	if m == nil || m[2] != "0" || a.header.Get("Retry-After") != "1" {
		t.Errorf("429 headers %v", a.header)
	}
	a = get(t, ts.URL+"/api/v1/lead/")
	mustStatus(t, a, 503)
	if a.header.Get("Retry-After") != "3" {
		t.Errorf("503 Retry-After %q", a.header.Get("Retry-After"))
	}
	mustStatus(t, get(t, ts.URL+"/api/v1/lead/"), 500)
	mustStatus(t, get(t, ts.URL+"/api/v1/lead/"), 401)
	mustStatus(t, get(t, ts.URL+"/api/v1/lead/"), 200)

	// Malformed.
	s.Fail("/api/v1/event", 1, Malformed())
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/event/", nil)
	req.SetBasicAuth(DefaultAPIKey, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v any
	if resp.StatusCode != 200 || json.Unmarshal(raw, &v) == nil {
		t.Errorf("malformed %d %q", resp.StatusCode, raw)
	}

	// Slow, honouring the request context.
	s.Fail("/api/v1/", 1, Slow(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/lead/", nil)
	req.SetBasicAuth(DefaultAPIKey, "")
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("slow: %v after %v", err, time.Since(start))
	}

	// RepeatCursor on the Event Log and on a _skip list.
	first := get(t, ts.URL+"/api/v1/event/?_limit=3")
	c1 := first.body["cursor_next"].(string)
	s.Fail("/api/v1/event", 1, RepeatCursor())
	second := get(t, ts.URL+"/api/v1/event/?_limit=3&_cursor="+url.QueryEscape(c1))
	if second.body["cursor_next"] != c1 {
		t.Errorf("repeat: %v", second.body["cursor_next"])
	}
	s.Fail("/api/v1/lead", 1, RepeatCursor())
	last := get(t, ts.URL+"/api/v1/lead/?_skip=9")
	if last.body["has_more"] != true || len(data(last)) != 1 {
		t.Errorf("repeat on skip list: %s", last.raw)
	}
	s.Fail("/", -1, Status(500))
	mustStatus(t, get(t, ts.URL+"/api/v1/me/"), 500)
	s.ClearFaults()
	mustStatus(t, get(t, ts.URL+"/api/v1/me/"), 200)
}

func TestBurstAndRequestLog(t *testing.T) {
	s, ts, clk := setup(t, Options{Burst: 2, MaxRequestLog: 3})
	for i := range 2 {
		a := get(t, ts.URL+"/api/v1/lead/?_limit=5")
		mustStatus(t, a, 200)
		if want := "limit=2, remaining=" + strconv.Itoa(1-i) + ", reset=1"; a.header.Get("RateLimit") != want {
			t.Errorf("RateLimit %q, want %q", a.header.Get("RateLimit"), want)
		}
	}
	a := get(t, ts.URL+"/api/v1/lead/")
	mustStatus(t, a, 429)
	if a.header.Get("Retry-After") != "1" || a.header.Get("RateLimit") != "limit=2, remaining=0, reset=1" {
		t.Errorf("429 headers %v", a.header)
	}
	clk.Advance(time.Second)
	mustStatus(t, get(t, ts.URL+"/api/v1/lead/"), 200)
	reqs := s.Requests()
	if len(reqs) > 3 || reqs[0].URL.Query().Get("_limit") != "5" || reqs[0].Method != "GET" || !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "Basic ") {
		t.Errorf("log %+v", reqs)
	}
	s.ResetRequests()
	big := strings.Repeat("a", maxBodyBytes+1)
	clk.Advance(time.Second)
	mustStatus(t, do(t, "POST", ts.URL+"/api/v1/webhook/", big), 413)
	if r := s.Requests(); len(r) != 1 || r[0].Method != "POST" {
		t.Errorf("log after reset %+v", r)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	s.Generate(KindContact, 100)
	ids := s.IDs(KindContact)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				switch (g + i) % 4 {
				case 0:
					s.Create(KindOpportunity, nil)
				case 1:
					_, _ = s.Update(KindContact, ids[(g*20+i)%len(ids)], map[string]any{"title": "X" + strconv.Itoa(i)})
				case 2:
					clk.Advance(time.Millisecond)
				default:
					for _, p := range []string{"/api/v1/event/?object_type=contact", "/api/v1/opportunity/?_order_by=date_updated"} {
						req, _ := http.NewRequest("GET", ts.URL+p, nil)
						req.SetBasicAuth(DefaultAPIKey, "")
						if resp, err := http.DefaultClient.Do(req); err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if s.Count(KindOpportunity) != 40 {
		t.Errorf("opportunities %d", s.Count(KindOpportunity))
	}
}

// TestLargeStorePaging generates 100,000 opportunities (largeN) and pages through
// them 500 at a time with date_updated__gt, as the poller does, then reads
// the newest events of the Event Log.
func TestLargeStorePaging(t *testing.T) {
	if testing.Short() {
		t.Skip("large store test")
	}
	start := time.Now()
	s, ts, clk := setup(t, Options{PageLimitMax: 500})
	s.Generate(KindOpportunity, largeN)
	gen := time.Since(start)
	since := clk.Now().Add(-time.Second).Format("2006-01-02T15:04:05.000000+00:00")
	n, pages := 0, 0
	for {
		q := url.Values{"date_updated__gt": {since}, "_order_by": {"date_updated"}, "_limit": {"500"}, "_skip": {strconv.Itoa(n)}}
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/opportunity/?"+q.Encode(), nil)
		req.SetBasicAuth(DefaultAPIKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Data    []struct{ ID string } `json:"data"`
			HasMore bool                  `json:"has_more"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n += len(page.Data)
		pages++
		if !page.HasMore {
			break
		}
	}
	if n != largeN || pages != largeN/500 {
		t.Errorf("%d records in %d pages", n, pages)
	}
	a := get(t, ts.URL+"/api/v1/event/?object_type=opportunity&action=created")
	if len(data(a)) != 50 || a.body["cursor_next"] == nil {
		t.Errorf("event log page: %d", len(data(a)))
	}
	if d := time.Since(start); d > 10*time.Second { // generous: CI machines are shared
		t.Errorf("took %v (generate %v)", d, gen)
	}
	t.Logf("generate %v, total %v", gen, time.Since(start))
}
