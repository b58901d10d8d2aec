package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo resets its database on start, so it must never take one that
// holds real data.
func TestDemoRefusesRealData(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json"))
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	// The database EVENTDESK_DB names.
	r := run(t, db, "", "demo", "--serve", "--db", db)
	if r.code == 0 || !strings.Contains(r.stderr, "refusing to run the demo on "+db+": it is the database EVENTDESK_DB names") {
		t.Errorf("demo --db $EVENTDESK_DB: exit %d, stderr %q", r.code, r.stderr)
	}
	// Any other file with an instance the demo did not create.
	other := filepath.Join(t.TempDir(), "elsewhere.db")
	if err := os.WriteFile(other, before, 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, db, "", "demo", "--serve", "--db", other)
	if r.code == 0 || !strings.Contains(r.stderr, "refusing to reset "+other+" for the demo: it holds instance 1") {
		t.Errorf("demo --db with real data: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, err := os.ReadFile(other); err != nil || len(after) != len(before) {
		t.Errorf("the refused file changed or vanished (%v)", err)
	}
	if r := run(t, db, "", "demo", "--every", "0s"); r.code == 0 || !strings.Contains(r.stderr, "--every 0s: must be a positive duration") {
		t.Errorf("demo --every 0s: exit %d, stderr %q", r.code, r.stderr)
	}
}

// The demo's own demo.db is reset whatever was added to it during a demo.
func TestDemoResetsItsOwnDatabase(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "demo.db")
	mustRun(t, own, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json"))
	if err := resetDemoDB(t.Context(), own, true, Env{Getenv: func(string) string { return "" }}); err != nil {
		t.Fatalf("reset of the demo's own database: %v", err)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Fatalf("demo.db still there after the reset: %v", err)
	}
}
