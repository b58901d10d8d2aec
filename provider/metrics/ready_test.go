package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/provider/metrics"
)

// readyRig is a Readiness over a probe that fails on demand and two loops:
// one beats whenever the probe commits, the other only when told.
type readyRig struct {
	mu       sync.Mutex
	probeErr error
	now      time.Time
	live     atomic.Uint64
	stuck    atomic.Uint64
	rd       *metrics.Readiness
}

func newReadyRig(withStuck bool) *readyRig {
	r := &readyRig{now: t0}
	loops := []metrics.Loop{{Name: "dispatcher", Beats: r.live.Load}}
	if withStuck {
		loops = append(loops, metrics.Loop{Name: "scheduler", Beats: r.stuck.Load})
	}
	r.rd = metrics.NewReadiness(metrics.ReadyOptions{
		Probe: func(context.Context) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.probeErr == nil {
				r.live.Add(1) // a commit wakes the live loop
			}
			return r.probeErr
		},
		Loops:   loops,
		Timeout: 50 * time.Millisecond,
		Now: func() time.Time {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.now
		},
	})
	return r
}

func (r *readyRig) set(err error, advance time.Duration) {
	r.mu.Lock()
	r.probeErr = err
	r.now = r.now.Add(advance)
	r.mu.Unlock()
}

func (r *readyRig) get(t *testing.T) (int, metrics.ReadyReport) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health/ready", nil))
	var rep metrics.ReadyReport
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	return rec.Code, rep
}

func check(rep metrics.ReadyReport, name string) metrics.CheckResult {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	return metrics.CheckResult{Name: name + " (missing)"}
}

// A store that takes no write makes the engine not ready, with the error;
// once it recovers the engine is ready again and the last error stays
// visible. Answers are reused within the cache time.
func TestReadinessStoreWrite(t *testing.T) {
	r := newReadyRig(false)
	if code, rep := r.get(t); code != http.StatusOK || rep.Status != "ready" || !check(rep, "store").OK || !check(rep, "dispatcher").OK {
		t.Fatalf("healthy: %d %+v", code, rep)
	}
	r.set(errors.New("write to /data/eventdesk.db: no space left on device"), 0)
	if code, _ := r.get(t); code != http.StatusOK {
		t.Fatalf("within the cache time the answer changed to %d", code)
	}
	r.set(errors.New("write to /data/eventdesk.db: no space left on device"), 2*time.Second)
	code, rep := r.get(t)
	if code != http.StatusServiceUnavailable || rep.Status != "not ready" {
		t.Fatalf("disk full: %d %+v", code, rep)
	}
	if c := check(rep, "store"); c.OK || !strings.Contains(c.Error, "no space left") {
		t.Errorf("store check %+v", c)
	}
	if c := check(rep, "dispatcher"); c.OK || !strings.Contains(c.Error, "not checked") {
		t.Errorf("dispatcher check after a failed write %+v", c)
	}
	r.set(nil, 2*time.Second)
	code, rep = r.get(t)
	if c := check(rep, "store"); code != http.StatusOK || !c.OK || c.Error != "" || !strings.Contains(c.LastError, "no space left") || c.LastErrorAt.IsZero() {
		t.Errorf("recovered: %d, store check %+v", code, c)
	}
}

// A loop that does not pass after a commit makes the engine not ready and
// is named.
func TestReadinessStuckLoop(t *testing.T) {
	r := newReadyRig(true)
	code, rep := r.get(t)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("stuck scheduler: %d %+v", code, rep)
	}
	if c := check(rep, "scheduler"); c.OK || !strings.Contains(c.Error, "scheduler loop did not pass") {
		t.Errorf("scheduler check %+v", c)
	}
	if c := check(rep, "dispatcher"); !c.OK {
		t.Errorf("dispatcher check %+v", c)
	}
}

// A store write that hangs (a stuck disk) makes the engine not ready; later
// rounds wait for the same write instead of piling up more, and once it
// commits the engine is ready again.
func TestReadinessStuckWrite(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	var beats atomic.Uint64
	now := t0
	var mu sync.Mutex
	rd := metrics.NewReadiness(metrics.ReadyOptions{
		Probe: func(context.Context) error {
			if calls.Add(1) == 1 {
				<-release
			}
			beats.Add(1)
			return nil
		},
		Loops:   []metrics.Loop{{Name: "dispatcher", Beats: beats.Load}},
		Timeout: 20 * time.Millisecond,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(2 * time.Second) // past the cache every time
			return now
		},
	})
	for range 3 {
		rep := rd.Check(context.Background())
		if c := check(rep, "store"); rep.Status == "ready" || !strings.Contains(c.Error, "has not committed") {
			t.Fatalf("stuck write: %+v", rep)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d writes started while the first hung, want 1", n)
	}
	close(release)
	if rep := rd.Check(context.Background()); rep.Status != "ready" {
		t.Errorf("after the write committed: %+v", rep)
	}
}
