package provider

import (
	"net/http"
	"testing"
)

// Off loopback, /metrics answers only with the API's secrets; on loopback
// (MetricsOpen) it answers anyone. /health/ready is open either way.
func TestMetricsAuth(t *testing.T) {
	scraped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("eventdesk_instances 0\n")) })
	ready := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	for _, open := range []bool{false, true} {
		e := rcvNew(t, func(c *Config) { c.Metrics, c.MetricsOpen, c.Ready = scraped, open, ready })
		wantBare := http.StatusUnauthorized
		if open {
			wantBare = http.StatusOK
		}
		if got := e.do("GET", "/metrics", nil, nil).Code; got != wantBare {
			t.Errorf("open=%v: /metrics without credentials: %d, want %d", open, got, wantBare)
		}
		if got := e.authed("GET", "/metrics", nil).Code; got != http.StatusOK {
			t.Errorf("open=%v: /metrics with the API secrets: %d", open, got)
		}
		if got := e.do("GET", "/health/ready", nil, nil).Code; got != http.StatusServiceUnavailable {
			t.Errorf("open=%v: /health/ready: %d, want the handler's 503", open, got)
		}
	}
	if got := rcvNew(t, nil).do("GET", "/metrics", nil, nil).Code; got != http.StatusNotFound {
		t.Errorf("/metrics without a metrics handler: %d, want 404", got)
	}
}
