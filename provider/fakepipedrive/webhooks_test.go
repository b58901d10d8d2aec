package fakepipedrive

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// received is one request seen by a test receiver.
type received struct {
	user, pass string
	hasAuth    bool
	header     http.Header
	body       []byte
}

// receiver starts a webhook receiver that answers the given statuses in turn
// (then 200) and reports every request on the returned channel.
func receiver(t *testing.T, statuses ...int) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 100)
	var n int
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		ch <- received{user: u, pass: p, hasAuth: ok, header: r.Header.Clone(), body: b}
		st := 200
		if n < len(statuses) {
			st = statuses[n]
		}
		n++ // handlers of one sequential Flush never overlap
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

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func register(t *testing.T, ts *httptest.Server, body string) answer {
	t.Helper()
	return do(t, "POST", ts.URL+"/v1/webhooks", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

func TestWebhookSubscriptionAPI(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	for _, bad := range []string{
		`{"event_action":"*","event_object":"*","name":"x"}`,
		`{"subscription_url":"/relative","event_action":"*","event_object":"*","name":"x"}`,
		`{"subscription_url":"ftp://example.org/x","event_action":"*","event_object":"*","name":"x"}`,
	} {
		a := register(t, ts, bad)
		mustStatus(t, a, 400)
		if string(a.raw) != `{"status":"error","success":false,"errors":{"subscription_url":["invalid or non-reachable URL"]}}` {
			t.Errorf("400 body %s", a.raw)
		}
	}
	a := register(t, ts, `{"subscription_url":"https://example.org/x","event_action":"bogus","event_object":"*","name":"x"}`)
	mustStatus(t, a, 400)
	if _, ok := a.body["errors"].(map[string]any)["event_action"]; !ok {
		t.Errorf("bad action: %s", a.raw)
	}

	a = register(t, ts, `{"subscription_url":"https://example.org/hook","event_action":"*","event_object":"*",
		"name":"eventdesk","version":"2.0","http_auth_user":"u","http_auth_password":"p"}`)
	mustStatus(t, a, 201)
	d := a.body["data"].(map[string]any)
	want := []string{"add_time", "admin_id", "company_id", "event_action", "event_object", "http_auth_password",
		"http_auth_user", "id", "is_active", "last_delivery_time", "last_http_status", "name", "owner_id",
		"remove_reason", "remove_time", "subscription_url", "type", "user_id", "version"}
	if !reflect.DeepEqual(keys(d), want) || a.body["status"] != "ok" || a.body["success"] != true {
		t.Errorf("201 body %s", a.raw)
	}
	if d["add_time"] != "2024-03-01T10:00:00.000Z" || d["is_active"] != float64(1) || d["version"] != "2.0" || d["http_auth_user"] != "u" {
		t.Errorf("201 data %v", d)
	}
	// Form bodies work too; version defaults to 2.0.
	a = do(t, "POST", ts.URL+"/v1/webhooks", strings.NewReader("subscription_url=https%3A%2F%2Fexample.org%2F2&event_action=change&event_object=deal&name=n"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	mustStatus(t, a, 201)
	if a.body["data"].(map[string]any)["version"] != "2.0" {
		t.Errorf("default version: %s", a.raw)
	}

	a = get(t, ts.URL+"/v1/webhooks")
	mustStatus(t, a, 200)
	if len(data(a)) != 2 || len(s.Webhooks()) != 2 {
		t.Fatalf("list: %s", a.raw)
	}
	a = do(t, "DELETE", ts.URL+"/v1/webhooks/1", nil, nil)
	mustStatus(t, a, 200)
	if string(a.raw) != `{"status":"ok","success":true}` {
		t.Errorf("delete body %s", a.raw)
	}
	a = do(t, "DELETE", ts.URL+"/v1/webhooks/1", nil, nil)
	mustStatus(t, a, 404)
	if string(a.raw) != `{"status":"error","success":false,"errors":{"id":["not found"]}}` {
		t.Errorf("404 body %s", a.raw)
	}
	if len(s.Webhooks()) != 1 {
		t.Errorf("webhooks after delete: %v", s.Webhooks())
	}
}

var isoMillis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestWebhookDeliveryV2(t *testing.T) {
	s, ts, clk := setup(t, Options{CompanyID: 8087566, UserID: 12415231})
	rs, got := receiver(t)
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`/hook","event_action":"*","event_object":"person",
		"name":"eventdesk","http_auth_user":"hookuser","http_auth_password":"hookpass"}`), 201)
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`/deals","event_action":"*","event_object":"deal","name":"deals"}`), 201)

	p := s.Create(KindPerson, map[string]any{"first_name": "Sample", "last_name": "Person"})
	clk.Advance(90*time.Second + 616*time.Millisecond)
	if _, err := s.Update(KindPerson, p.ID, map[string]any{"first_name": "Sampler"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(KindPerson, p.ID); err != nil {
		t.Fatal(err)
	}
	if s.Pending() != 3 {
		t.Fatalf("pending %d, want 3 (deal subscription must not match)", s.Pending())
	}
	res := s.Flush(context.Background())
	if len(res) != 3 || s.Pending() != 0 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if r.Err != nil || r.StatusCode != 200 || r.Attempt != 1 || r.Requeued {
			t.Errorf("result %+v", r)
		}
	}

	create := next(t, got)
	if !create.hasAuth || create.user != "hookuser" || create.pass != "hookpass" {
		t.Errorf("basic auth %q %q %v", create.user, create.pass, create.hasAuth)
	}
	if ct := create.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	c := decode(t, create.body)
	meta := c["meta"].(map[string]any)
	if meta["action"] != "create" || meta["entity"] != "person" || meta["entity_id"] != p.ID || meta["version"] != "2.0" ||
		meta["attempt"] != float64(1) || meta["company_id"] != "8087566" || meta["user_id"] != "12415231" ||
		meta["webhook_id"] != "1" || meta["type"] != "general" || c["previous"] != nil {
		t.Errorf("create body %s", create.body)
	}
	if !uuidRE.MatchString(meta["id"].(string)) || !isoMillis.MatchString(meta["timestamp"].(string)) {
		t.Errorf("meta id/timestamp %v %v", meta["id"], meta["timestamp"])
	}
	if c["data"].(map[string]any)["name"] != "Sample Person" {
		t.Errorf("create data %v", c["data"])
	}
	// Key order follows the documented example: data, previous, meta.
	if !strings.HasPrefix(string(create.body), `{"data":{`) || !strings.Contains(string(create.body), `"previous":null,"meta":{"action":"create","company_id"`) {
		t.Errorf("body order %s", create.body)
	}

	change := decode(t, next(t, got).body)
	meta = change["meta"].(map[string]any)
	if meta["action"] != "change" || meta["timestamp"] != "2024-03-01T10:01:30.616Z" {
		t.Errorf("change meta %v", meta)
	}
	if !reflect.DeepEqual(change["previous"], map[string]any{"first_name": "Sample", "name": "Sample Person"}) {
		t.Errorf("previous %v", change["previous"])
	}
	if d := change["data"].(map[string]any); d["name"] != "Sampler Person" || d["update_time"] != "2024-03-01T10:01:30Z" {
		t.Errorf("change data %v", d)
	}

	del := decode(t, next(t, got).body)
	if del["data"] != nil || del["meta"].(map[string]any)["action"] != "delete" ||
		del["previous"].(map[string]any)["name"] != "Sampler Person" {
		t.Errorf("delete body %v", del)
	}
	if w := s.Webhooks()[0]; w.LastHTTPStatus == nil || *w.LastHTTPStatus != 200 || w.LastDeliveryTime == nil {
		t.Errorf("last delivery not recorded: %+v", w)
	}
}

func TestWebhookDeliveryV1(t *testing.T) {
	s, ts, _ := setup(t, Options{})
	rs, got := receiver(t)
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`","event_action":"updated","event_object":"deal","name":"v1","version":"1.0"}`), 201)
	d := s.Create(KindDeal, map[string]any{"title": "Big deal", "custom_fields": map[string]any{"abc": map[string]any{"type": "double", "value": 978}}})
	s.Create(KindLead, nil) // v1 has no lead: never delivered
	if _, err := s.Update(KindDeal, d.ID, map[string]any{"stage_id": 2}); err != nil {
		t.Fatal(err)
	}
	res := s.Flush(context.Background())
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("results %+v", res)
	}
	r := next(t, got)
	if r.hasAuth {
		t.Error("basic auth sent without credentials")
	}
	b := decode(t, r.body)
	meta := b["meta"].(map[string]any)
	if b["v"] != float64(1) || b["event"] != "updated.deal" || b["retry"] != float64(0) || meta["action"] != "updated" ||
		meta["object"] != "deal" || meta["id"] != float64(1) || meta["timestamp"] != float64(t0.Unix()) ||
		meta["timestamp_micro"] != float64(t0.UnixMicro()) || meta["webhook_id"] != float64(1) {
		t.Errorf("v1 body %s", r.body)
	}
	cur, prev := b["current"].(map[string]any), b["previous"].(map[string]any)
	if cur["stage_id"] != float64(2) || prev["stage_id"] != float64(1) || cur["update_time"] != "2024-03-01 10:00:00" || cur["abc"] != float64(978) {
		t.Errorf("v1 current/previous %v %v", cur, prev)
	}
}

func TestDeliveryRetries(t *testing.T) {
	s, ts, _ := setup(t, Options{MaxAttempts: 2})
	rs, got := receiver(t, 500, 503)
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`","event_action":"create","event_object":"*","name":"r"}`), 201)
	s.Create(KindOrganization, map[string]any{"name": "Acme"})
	res := s.Flush(context.Background())
	if len(res) != 1 || res[0].StatusCode != 500 || res[0].Err == nil || !res[0].Requeued || s.Pending() != 1 {
		t.Fatalf("first flush %+v", res)
	}
	res = s.Flush(context.Background())
	if len(res) != 1 || res[0].Attempt != 2 || res[0].StatusCode != 503 || res[0].Requeued || s.Pending() != 0 {
		t.Fatalf("second flush %+v", res)
	}
	first, second := decode(t, next(t, got).body), decode(t, next(t, got).body)
	m1, m2 := first["meta"].(map[string]any), second["meta"].(map[string]any)
	if m1["id"] != m2["id"] || m2["attempt"] != float64(2) {
		t.Errorf("retry meta %v vs %v", m1, m2)
	}
	// A deleted subscription's queued deliveries are dropped.
	s.Create(KindOrganization, nil)
	mustStatus(t, do(t, "DELETE", ts.URL+"/v1/webhooks/1", nil, nil), 200)
	if res := s.Flush(context.Background()); len(res) != 0 {
		t.Errorf("delivered to a deleted subscription: %+v", res)
	}
	// A cancelled context keeps deliveries queued.
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`","event_action":"*","event_object":"*","name":"r"}`), 201)
	s.Create(KindOrganization, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := s.Flush(ctx); len(res) != 0 || s.Pending() != 1 {
		t.Errorf("cancelled flush: %+v, pending %d", res, s.Pending())
	}
}

func TestAutoDeliver(t *testing.T) {
	results := make(chan DeliveryResult, 10)
	s, ts, _ := setup(t, Options{AutoDeliver: true, OnDelivery: func(r DeliveryResult) { results <- r }})
	rs, got := receiver(t)
	mustStatus(t, register(t, ts, `{"subscription_url":"`+rs.URL+`","event_action":"*","event_object":"*","name":"a"}`), 201)
	s.Create(KindPerson, map[string]any{"name": "Auto"})
	select {
	case r := <-results:
		if r.Err != nil || r.Action != "create" {
			t.Errorf("result %+v", r)
		}
	case <-time.After(10 * time.Second): // a safety net, not a wait
		t.Fatal("no auto delivery")
	}
	if b := decode(t, next(t, got).body); b["data"].(map[string]any)["name"] != "Auto" {
		t.Errorf("body %v", b)
	}
	s.Close()
}

func TestBodyBuilders(t *testing.T) {
	ts := time.Date(2022, 11, 24, 15, 18, 35, 616e6, time.UTC)
	b, err := WebhookV2Body(V2Meta{
		Action: "change", Entity: "person", EntityID: "8", ID: "7c812ffd-8f50-45ea-a597-b8fcba2da9c0",
		CorrelationID: "43cb94f3-bbbd-406c-ae19-ddeec349d896", CompanyID: "8087566", UserID: "12415231",
		WebhookID: "4710827", WebhookOwnerID: "12094821", Timestamp: ts, Host: "pd-us.pipedrive.com",
	}, map[string]any{"id": 8, "name": "Sample Person"}, map[string]any{"name": "Sample"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"id":8,"name":"Sample Person"},"previous":{"name":"Sample"},"meta":{"action":"change","company_id":"8087566",` +
		`"correlation_id":"43cb94f3-bbbd-406c-ae19-ddeec349d896","entity_id":"8","entity":"person","id":"7c812ffd-8f50-45ea-a597-b8fcba2da9c0",` +
		`"is_bulk_edit":false,"timestamp":"2022-11-24T15:18:35.616Z","type":"general","user_id":"12415231","version":"2.0",` +
		`"webhook_id":"4710827","webhook_owner_id":"12094821","change_source":"app","attempt":1,"host":"pd-us.pipedrive.com"}}`
	if string(b) != want {
		t.Errorf("v2 body\n got %s\nwant %s", b, want)
	}
	b, _ = WebhookV2Body(V2Meta{Action: "change", Entity: "user", EntityID: "5", Timestamp: ts, IntegerTimestamp: true}, nil, json.RawMessage(`{"active_flag":true}`))
	m := decode(t, b)
	if m["meta"].(map[string]any)["timestamp"] != float64(ts.Unix()) || m["data"] != nil {
		t.Errorf("user body %s", b)
	}
	b, _ = WebhookV1Body(V1Meta{Action: "deleted", Object: "person", ID: 3, Timestamp: ts}, nil, map[string]any{"id": 3})
	m = decode(t, b)
	if m["event"] != "deleted.person" || m["current"] != nil || m["meta"].(map[string]any)["id"] != float64(3) {
		t.Errorf("v1 body %s", b)
	}
}
