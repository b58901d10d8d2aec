package engine_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
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
