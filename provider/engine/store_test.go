package engine_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
)

// The embedded bbolt store plays every role an engine needs.
var _ engine.Store = (*store.Store)(nil)

func TestOpenStoreOpensABboltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	st, err := engine.OpenStore(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenStore(%s): %v", path, err)
	}
	defer st.Close()
	if st.Path() != path {
		t.Errorf("Path = %q, want %q", st.Path(), path)
	}
	if _, err := st.APISecrets(t.Context()); err != nil {
		t.Errorf("APISecrets: %v", err)
	}
	// A second opener is told who holds it, as before.
	_, err = engine.OpenStore(t.Context(), path)
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second OpenStore = %v, want store.ErrLocked", err)
	}
	if _, err := engine.OpenStore(t.Context(), ""); err == nil {
		t.Error("OpenStore(\"\") succeeded, want an error naming what is missing")
	}
}

// A PostgreSQL URL that cannot be reached fails with an error that names
// the database and never shows the password, in the URL or its query.
func TestOpenStoreMasksThePassword(t *testing.T) {
	for _, url := range []string{
		"postgres://ed:s3cretpw@127.0.0.1:1/ed?sslmode=disable",
		"postgresql://ed@127.0.0.1:1/ed?sslmode=disable&password=s3cretpw",
	} {
		st, err := engine.OpenStore(t.Context(), url)
		if err == nil {
			st.Close()
			t.Fatalf("OpenStore(%s) succeeded on a port nothing listens on", postgres.MaskURL(url))
		}
		msg := err.Error()
		if strings.Contains(msg, "s3cretpw") {
			t.Errorf("error shows the password: %s", msg)
		}
		if !strings.Contains(msg, "***") || !strings.Contains(msg, "127.0.0.1:1") {
			t.Errorf("error %q does not name the database (masked)", msg)
		}
	}
}

func TestIsDatabaseURL(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://h/db": true, "postgresql://h/db": true, "POSTGRES://h/db": true,
		"eventdesk.db": false, "/var/lib/eventdesk/eventdesk.db": false, "postgres.db": false, "": false,
	} {
		if got := engine.IsDatabaseURL(in); got != want {
			t.Errorf("IsDatabaseURL(%q) = %v, want %v", in, got, want)
		}
	}
}
