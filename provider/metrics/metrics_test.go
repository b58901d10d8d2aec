package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// t0 is the fake clock's start: the store's and the vendor's time.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// families is one scrape, parsed.
type families map[string]*dto.MetricFamily

// scrape GETs /metrics over HTTP and parses it with the library's text
// parser, as Prometheus would read it.
func scrape(t *testing.T, url string, hdr http.Header) families {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: Content-Type %q, want the text format", url, ct)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mfs
}

// value sums the series of name whose labels include want: a counter's or
// gauge's value, a histogram's count.
func (f families) value(name string, want ...string) float64 {
	mf, ok := f[name]
	if !ok {
		return -1
	}
	sum := 0.0
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// hasLabels reports whether m carries every name=value pair of want.
func hasLabels(m *dto.Metric, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rig is a store, dispatcher, poller and listener wired to one Metrics as
// the engine wires them, with a fake vendor and two callback endpoints.
type rig struct {
	st      *store.Store
	m       *metrics.Metrics
	srv     *httptest.Server
	vendor  *fakepipedrive.Server
	clock   *fakepipedrive.FakeClock
	poller  *poll.Poller
	failing string // callback URL answering 500
	ok      string // callback URL answering 200
	// vendorURL is the fake Pipedrive's base URL.
	vendorURL string

	mu    sync.Mutex
	waits []time.Duration // rate-limit waits the poller asked for
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clock: fakepipedrive.NewClock(t0)}
	st, err := store.Open(filepath.Join(t.TempDir(), "ed.db"), store.Options{NoSync: true, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	r.m = metrics.New(metrics.Options{Store: st})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "callback down", http.StatusInternalServerError)
	}))
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	r.failing, r.ok = failing.URL, ok.URL
	r.vendor = fakepipedrive.New(fakepipedrive.Options{Clock: r.clock})
	vendor := httptest.NewServer(r.vendor)
	disp := dispatch.Start(st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Millisecond, MaxRetries: 1}, Observer: r.m})
	r.poller = poll.New(st, poll.Options{Now: r.clock.Now, Observer: r.m, Sleep: func(ctx context.Context, d time.Duration) error {
		r.mu.Lock()
		r.waits = append(r.waits, d)
		r.mu.Unlock()
		return ctx.Err()
	}})
	srv := provider.New(st, provider.Config{PublicURL: "http://127.0.0.1", Webhooks: r.m, Metrics: r.m.Handler(), MetricsOpen: true})
	r.srv = httptest.NewServer(srv)
	t.Cleanup(func() {
		r.srv.Close()
		disp.Stop()
		st.Close()
		failing.Close()
		ok.Close()
		vendor.Close()
	})
	r.vendorURL = vendor.URL
	return r
}

// instance creates an instance of the pipedrive element.
func (r *rig) instance(t *testing.T, cfg map[string]any) model.Instance {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range cfg {
		b, _ := json.Marshal(v)
		raw[k] = b
	}
	name := "metrics test"
	req := model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &name, Configuration: raw}
	in, err := model.NewInstance(req, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = r.st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

// post sends a webhook body to path and returns the status.
func (r *rig) post(t *testing.T, path string, body []byte) int {
	t.Helper()
	resp, err := http.Post(r.srv.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hookPath(in model.Instance) string {
	u := model.WebhookURL("http://127.0.0.1", in.ElementKey, in.ID)
	return strings.TrimPrefix(u, "http://127.0.0.1")
}

// personChange is a Pipedrive v2 "change person" webhook body.
func personChange(eventID string, person int) []byte {
	return []byte(fmt.Sprintf(`{"data":{"id":%d,"name":"P %d"},"previous":{"name":"old"},"meta":{"action":"change","entity":"person","entity_id":"%d","id":"%s","timestamp":"2026-03-01T09:00:00.000Z","version":"2.0","webhook_id":"1","attempt":1}}`,
		person, person, person, eventID))
}

// The metrics tell what happened after real actions: webhooks stored,
// repeated and refused, a callback failing until its notification is dead,
// another delivered, and a poll that met a 429 and waited it out — read
// from /metrics over HTTP with Prometheus's own text parser.
func TestMetricsAfterRealActions(t *testing.T) {
	r := newRig(t)
	hooked := r.instance(t, map[string]any{
		model.KeyPipedriveToken: "pd-token", model.KeyEventsEnabled: "true", model.KeyVendorType: "webhook",
		model.KeyCallbackURL: r.failing,
	})
	polled := r.instance(t, map[string]any{
		model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken, model.KeyEventsEnabled: "true", model.KeyVendorType: "polling",
		model.KeyCallbackURL: r.ok, model.KeyBaseURL: r.vendorURL + "/v1",
		model.KeyPollerConfiguration: json.RawMessage(`{"contacts":{"url":"/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'","idField":"id",` +
			`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss","createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss"}}}`),
	})
	hid, pid := strconv.FormatInt(hooked.ID, 10), strconv.FormatInt(polled.ID, 10)

	// Webhooks: one stored, the same again (a duplicate), one for an
	// instance that does not exist, one that is not JSON.
	body := personChange("0b7c3f9e-metrics-1", 7)
	for _, c := range []struct {
		path string
		body []byte
		want int
	}{
		{hookPath(hooked), body, http.StatusOK},
		{hookPath(hooked), body, http.StatusOK},
		{hookPath(model.Instance{ID: 9999, ElementKey: "pipedrive"}), body, http.StatusNotFound},
		{hookPath(hooked), []byte(`{"meta":`), http.StatusBadRequest},
	} {
		if got := r.post(t, c.path, c.body); got != c.want {
			t.Fatalf("POST %s: %d, want %d", c.path, got, c.want)
		}
	}

	// A poll meeting one 429 that asks for 7 s, then two changed persons.
	r.clock.Advance(time.Minute)
	r.vendor.Create(fakepipedrive.KindPerson, nil)
	r.vendor.Create(fakepipedrive.KindPerson, nil)
	r.clock.Advance(time.Minute)
	r.vendor.Fail("/api/v2/persons", 1, fakepipedrive.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second})
	if _, _, err := poll.PollNow(context.Background(), r.st, r.poller, polled.ID, ""); err != nil {
		t.Fatal(err)
	}

	// The hooked instance's notification fails twice and is dead; the
	// polled one's is delivered. Attempts are counted as they end and
	// stored a moment later, so wait until the store has caught up too.
	url := r.srv.URL + "/metrics"
	var mf families
	waitFor(t, "a dead and a delivered notification", func() bool {
		mf = scrape(t, url, nil)
		return mf.value("eventdesk_notifications", "state", "dead") == 1 &&
			mf.value("eventdesk_notifications", "state", "pending") == 0 &&
			mf.value("eventdesk_notifications_finished_total", "instance", pid, "state", "delivered") == 1
	})

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"eventdesk_webhook_requests_total", []string{"element", "pipedrive", "outcome", "stored"}, 1},
		{"eventdesk_webhook_requests_total", []string{"element", "pipedrive", "outcome", "duplicate"}, 1},
		{"eventdesk_webhook_requests_total", []string{"element", "pipedrive", "outcome", "rejected"}, 2},
		{"eventdesk_webhook_events_total", []string{"instance", hid, "outcome", "stored"}, 1},
		{"eventdesk_webhook_events_total", []string{"instance", hid, "outcome", "duplicate"}, 1},
		{"eventdesk_webhook_rejected_total", []string{"reason", "unknown_target"}, 1},
		{"eventdesk_webhook_rejected_total", []string{"reason", "bad_request"}, 1},
		{"eventdesk_webhook_receive_seconds", []string{"element", "pipedrive"}, 2},
		{"eventdesk_webhook_body_bytes", []string{"element", "pipedrive"}, 2},

		{"eventdesk_delivery_attempts_total", []string{"instance", hid, "class", "5xx"}, 2},
		{"eventdesk_delivery_attempts_total", []string{"instance", pid, "class", "2xx"}, 1},
		{"eventdesk_delivery_attempt_seconds", []string{"element", "pipedrive"}, 3},
		{"eventdesk_notifications_finished_total", []string{"instance", hid, "state", "dead"}, 1},
		{"eventdesk_notifications", []string{"state", "pending"}, 0},
		{"eventdesk_notifications", []string{"state", "failing"}, 0},
		{"eventdesk_instance_notifications", []string{"instance", hid, "state", "dead"}, 1},
		{"eventdesk_held_lanes", nil, 0},

		{"eventdesk_poll_cycles_total", []string{"instance", pid, "resource", "contacts", "outcome", "ok"}, 1},
		{"eventdesk_poll_cycles_total", []string{"outcome", "error"}, 0},
		{"eventdesk_poll_records_total", []string{"instance", pid, "resource", "contacts"}, 2},
		{"eventdesk_poll_events_total", []string{"instance", pid, "resource", "contacts"}, 2},
		{"eventdesk_poll_cycle_seconds", []string{"resource", "contacts"}, 1},
		{"eventdesk_poll_rate_limited_total", []string{"instance", pid, "resource", "contacts"}, 1},
		{"eventdesk_poll_rate_limit_wait_seconds_total", []string{"instance", pid, "resource", "contacts"}, 7},

		{"eventdesk_instances", nil, 2},
		{"eventdesk_event_last_id", nil, 3},
		{"eventdesk_rejected_requests", nil, 2},
		{"eventdesk_store_dedupe_keys", nil, 1},
	} {
		if got := mf.value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := mf.value("eventdesk_store_commit_writes"); got < 4 {
		t.Errorf("eventdesk_store_commit_writes counted %v commits, want at least the 4 writes above", got)
	}
	if got := mf.value("eventdesk_store_db_bytes"); got <= 0 {
		t.Errorf("eventdesk_store_db_bytes = %v", got)
	}
	if _, ok := mf["go_goroutines"]; !ok {
		t.Error("the Go runtime collector is missing")
	}
	if _, ok := mf["eventdesk_webhook_events_total"]; ok {
		for _, m := range mf["eventdesk_webhook_events_total"].GetMetric() {
			if hasLabels(m, []string{"instance", "9999"}) {
				t.Error("a refused webhook's made-up instance id became a label")
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waits) != 1 || r.waits[0] != 7*time.Second {
		t.Errorf("poller waits %v, want the 429's 7s", r.waits)
	}
}
