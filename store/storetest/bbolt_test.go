package storetest_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/storetest"
)

func TestBbolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
