package provider

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
)

func TestBackupEndpoint(t *testing.T) {
	a := newTestAPI(t)
	created := a.create(seedBody(t, "pipedrive-polling"))

	apiErr(t, a.do(http.MethodGet, prefix+"/backup", "", nil), http.StatusUnauthorized)

	rec := a.authed(http.MethodGet, prefix+"/backup", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length %s, body %s bytes", got, want)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if _, err := store.SaveBackup(path, bytes.NewReader(rec.Body.Bytes())); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if in, err := st.Instance(t.Context(), created.ID); err != nil || in.Name != created.Name {
		t.Errorf("the copy holds %+v (%v), want instance %d %q", in, err, created.ID, created.Name)
	}

	// A cut download is refused and leaves nothing behind.
	bad := filepath.Join(t.TempDir(), "cut.db")
	if _, err := store.SaveBackup(bad, bytes.NewReader(rec.Body.Bytes()[:rec.Body.Len()/3])); err == nil {
		t.Error("SaveBackup accepted a third of a database")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(bad), "*")); len(m) != 0 {
		t.Errorf("a refused copy left files: %v", m)
	}
}

// heldWriter is a ResponseWriter whose first body write waits until
// released, standing for a slow client.
type heldWriter struct {
	*httptest.ResponseRecorder
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *heldWriter) Write(b []byte) (int, error) {
	h.once.Do(func() {
		close(h.started)
		<-h.release
	})
	return h.ResponseRecorder.Write(b)
}

// One backup download at a time: each needs a copy as large as the
// database, so a second one gets 429 with Retry-After while the first is
// sent. The copy is not a file anyone can find (a kill -9 during a download
// left it behind for good), and copies left by a crash of an earlier
// version are removed when the listener starts.
func TestBackupOneAtATime(t *testing.T) {
	dir := t.TempDir()
	orphan := filepath.Join(dir, ".eventdesk-download-123456")
	if err := os.WriteFile(orphan, []byte("a copy from a crashed download"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &testAPI{t: t, st: st, srv: New(st, Config{Secrets: testSecrets})}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an orphaned download copy survived the start: %v", err)
	}

	slow := &heldWriter{ResponseRecorder: httptest.NewRecorder(), started: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest(http.MethodGet, prefix+"/backup", nil)
	req.Header.Set("Authorization", goodAuth)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.srv.ServeHTTP(slow, req)
	}()
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first download never started sending")
	}
	rec := a.authed(http.MethodGet, prefix+"/backup", nil)
	apiErr(t, rec, http.StatusTooManyRequests, "already being downloaded")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".eventdesk-*")); len(m) != 0 {
		t.Errorf("a download in progress shows files a crash would leave behind: %v", m)
	}
	close(slow.release)
	<-done
	if slow.Code != http.StatusOK || slow.Body.Len() == 0 {
		t.Fatalf("the held download: %d, %d bytes", slow.Code, slow.Body.Len())
	}
	// Once it is sent, the next one may start.
	if rec := a.authed(http.MethodGet, prefix+"/backup", nil); rec.Code != http.StatusOK {
		t.Fatalf("backup after the first finished: %d %s", rec.Code, rec.Body)
	}
}
