package engine

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/store"
)

func startTest(t *testing.T, opts Options) *Engine {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	opts.Listen = "127.0.0.1:0"
	e, err := Start(t.Context(), st, opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// On a loopback listener /metrics needs no credentials; readiness checks
// the store and both loops of a running engine.
func TestEngineMetricsAndReadiness(t *testing.T) {
	e := startTest(t, Options{})
	if resp, _ := get(t, "http://"+e.Addr+"/metrics"); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics on loopback: %d, want 200 without credentials", resp.StatusCode)
	}
	resp, body := get(t, "http://"+e.Addr+"/health/ready")
	var rep metrics.ReadyReport
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != http.StatusOK || rep.Status != "ready" {
		t.Fatalf("/health/ready: %d %s", resp.StatusCode, body)
	}
	names := map[string]bool{}
	for _, c := range rep.Checks {
		names[c.Name] = c.OK
	}
	for _, n := range []string{"store", "dispatcher", "scheduler"} {
		if !names[n] {
			t.Errorf("check %s missing or failing in %s", n, body)
		}
	}
}

// --metrics-listen serves /metrics and the health answers without auth, and
// nothing of the API.
func TestEngineMetricsListen(t *testing.T) {
	e := startTest(t, Options{MetricsListen: "127.0.0.1:0"})
	if e.MetricsAddr == "" || e.MetricsAddr == e.Addr {
		t.Fatalf("metrics address %q (main %q)", e.MetricsAddr, e.Addr)
	}
	for path, want := range map[string]int{
		"/metrics":                           http.StatusOK,
		"/health":                            http.StatusOK,
		"/health/ready":                      http.StatusOK,
		"/elements/api-v2/instances":         http.StatusNotFound,
		"/elements/api-v2/rejected-requests": http.StatusNotFound,
	} {
		if resp, body := get(t, "http://"+e.MetricsAddr+path); resp.StatusCode != want {
			t.Errorf("GET %s on --metrics-listen: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
}

// Only an address no other machine can reach counts as loopback.
func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8470": true,
		"[::1]:8470":     true,
		"0.0.0.0:8470":   false,
		"[::]:8470":      false,
		"10.1.2.3:8470":  false,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := loopbackOnly(a); got != want {
			t.Errorf("loopbackOnly(%s) = %v, want %v", addr, got, want)
		}
	}
}
