package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventdesk/eventdesk/provider/metrics"
)

// Label values come from fixed, small sets whatever the request said.
func TestLabelSets(t *testing.T) {
	for status, want := range map[int]string{400: "bad_request", 401: "unauthorized", 404: "unknown_target", 405: "method", 413: "too_large", 418: "other", 429: "other"} {
		if got := metrics.RejectReason(status); got != want {
			t.Errorf("RejectReason(%d) = %q, want %q", status, got, want)
		}
	}
	for status, want := range map[int]string{0: "error", 200: "2xx", 204: "2xx", 302: "3xx", 410: "4xx", 503: "5xx", 999: "error"} {
		if got := metrics.AttemptClass(status); got != want {
			t.Errorf("AttemptClass(%d) = %q, want %q", status, got, want)
		}
	}
}

type circuits int

func (c circuits) OpenCircuits() int { return int(c) }

// Open circuits are reported only for a dispatcher that has circuits.
func TestOpenCircuits(t *testing.T) {
	for _, c := range []struct {
		dispatcher any
		want       float64
	}{
		{struct{}{}, -1},
		{circuits(3), 3},
	} {
		m := metrics.New(metrics.Options{NoProcess: true})
		m.WatchCircuits(c.dispatcher)
		srv := httptest.NewServer(m.Handler())
		got := scrape(t, srv.URL, http.Header{}).value("eventdesk_delivery_open_circuits")
		srv.Close()
		if got != c.want {
			t.Errorf("dispatcher %T: open circuits %v, want %v (-1: not reported)", c.dispatcher, got, c.want)
		}
	}
}
