package provider

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
)

// syncBuffer is a bytes.Buffer safe for the handler's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

func TestRepeatLimiter(t *testing.T) {
	var buf syncBuffer
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	log := slog.New(newRepeatLimiter(slog.NewTextHandler(&buf, nil), repeatWindow, func() time.Time { return now })).With("component", "api")
	for i := 0; i < 1000; i++ {
		log.Error("request failed", "path", fmt.Sprint("/p", i), "err", "write: no space left on device")
	}
	log.Error("request failed", "err", "another error")
	log.Warn("request failed", "err", "write: no space left on device")
	for i := 0; i < 3; i++ {
		log.Info("backup sent", "bytes", i)
	}
	now = now.Add(repeatWindow)
	log.Error("request failed", "err", "write: no space left on device")
	got := buf.lines()
	if len(got) != 7 {
		t.Fatalf("%d lines, want 7 (first error, another error, the warning, 3 info, one after the window):\n%s", len(got), strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], "no space") || strings.Contains(got[0], "repeated") || !strings.Contains(got[0], "component=api") {
		t.Errorf("first line %q", got[0])
	}
	if !strings.Contains(got[6], "repeated=999") {
		t.Errorf("line after the window %q, want the 999 held back", got[6])
	}
}

// A failing store answers every request with a 500; the log gets one ERROR
// line for the run, not one per request (11,000 in 40 s on a full disk).
func TestServerLogsRepeatedFailuresOnce(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	a := &testAPI{t: t, st: st, srv: New(st, Config{Secrets: testSecrets, Logger: slog.New(slog.NewTextHandler(&buf, nil))})}
	st.Close()
	for i := 0; i < 200; i++ {
		if rec := a.authed(http.MethodGet, prefix+"/instances", nil); rec.Code != http.StatusInternalServerError {
			t.Fatalf("request on a closed store: %d %s", rec.Code, rec.Body)
		}
	}
	var errs int
	for _, l := range buf.lines() {
		if strings.Contains(l, "level=ERROR") {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("%d ERROR lines for 200 alike failures, want 1:\n%s", errs, strings.Join(buf.lines(), "\n"))
	}
}

// An unauthenticated 404 flood is not a commit per request: the rejected
// log keeps a burst and counts the rest.
func TestRejectedFloodThroughTheListener(t *testing.T) {
	// The store's clock stands still, so the flood is one instant however
	// long 3,000 requests take under -race: no tokens come back mid-flood.
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &testAPI{t: t, st: st, srv: New(st, Config{PublicURL: "http://127.0.0.1:8470", Secrets: testSecrets, Now: func() time.Time { return now }})}
	const flood = 3000
	for i := 0; i < flood; i++ {
		a.do(http.MethodGet, fmt.Sprintf("/scan/%d", i), "", nil)
	}
	list, _, err := a.st.RejectedList(t.Context(), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	// The queue is written once a second (real time), so a slow flood may
	// be written in several batches, each with its own count of drops.
	kept, dropped := 0, 0
	for _, r := range list {
		if r.Dropped > 0 {
			dropped += r.Dropped
		} else {
			kept++
		}
	}
	if kept != store.RejectedBurst || dropped != flood-store.RejectedBurst {
		t.Fatalf("%d entries kept and %d counted as dropped; want %d kept and %d dropped", kept, dropped, store.RejectedBurst, flood-store.RejectedBurst)
	}
}
