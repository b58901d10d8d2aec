package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// While an engine holds the database, backup takes a hot copy from it;
// once the engine has stopped, backup reads the file itself.
func TestBackupHotFromRunningEngine(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json"))
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Start(t.Context(), st, engine.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			e.Stop()
		}
	}()
	if fi, err := os.Stat(engine.RuntimePath(db)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("engine file: %v, mode %v; want it written 0600", err, fi.Mode().Perm())
	}

	// The engine keeps taking writes while the copy is made.
	second, err := st.Instance(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	second.ID, second.Name = 0, "second"
	if _, err := st.CreateInstance(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	hot := filepath.Join(t.TempDir(), "hot.db")
	out := mustRun(t, db, "backup", hot)
	if !strings.Contains(out, "a hot copy from the running eventdesk") {
		t.Errorf("backup output %q does not say it came from the running engine", out)
	}
	if fi, err := os.Stat(hot); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v; want mode 0600", err)
	}
	if got := len(storedInstances(t, hot)); got != 2 {
		t.Errorf("hot backup holds %d instances, want 2", got)
	}

	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := os.Stat(engine.RuntimePath(db)); !os.IsNotExist(err) {
		t.Errorf("engine file left behind after Stop: %v", err)
	}
	cold := filepath.Join(t.TempDir(), "cold.db")
	if out := mustRun(t, db, "backup", cold); strings.Contains(out, "hot copy") {
		t.Errorf("backup of a closed database went through an engine: %q", out)
	}
	if got := len(storedInstances(t, cold)); got != 2 {
		t.Errorf("backup holds %d instances, want 2", got)
	}
}

// An engine file left by a crashed engine does not send the API secrets to
// whatever now listens on its port.
func TestBackupRefusesAGoneEngine(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json"))
	st, err := store.Open(db, store.Options{}) // holds the lock like a running engine
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gone := `{"pid":2147483646,"url":"http://127.0.0.1:1","user":"u","organization":"o"}`
	if err := os.WriteFile(engine.RuntimePath(db), []byte(gone), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, db, "", "backup", filepath.Join(t.TempDir(), "b.db"))
	if r.code == 0 || !strings.Contains(r.stderr, "names process 2147483646, which is gone") {
		t.Errorf("backup with a stale engine file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// While the running engine sends another backup, backup says so and what to
// do, instead of quoting the API's answer.
func TestBackupWhileAnotherRuns(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "secrets")
	st, err := store.Open(db, store.Options{}) // holds the lock like a running engine
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"requestId":"r1","message":"a backup is already being downloaded"}`)
	}))
	defer busy.Close()
	rt := fmt.Sprintf(`{"pid":%d,"url":%q,"user":"u","organization":"o"}`, os.Getpid(), busy.URL)
	if err := os.WriteFile(engine.RuntimePath(db), []byte(rt), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "b.db")
	r := run(t, db, "", "backup", dest)
	if r.code != 1 || !strings.Contains(r.stderr, "already sending a backup") || !strings.Contains(r.stderr, "run backup again") {
		t.Errorf("backup while another runs: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a refused backup left %s: %v", dest, err)
	}
}
