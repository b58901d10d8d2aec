package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
)

// A retention given once is remembered; without one the stored value, else
// the default, applies.
func TestRetentionIsRemembered(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []struct {
		opt, want time.Duration
	}{
		{0, store.DefaultRetention},
		{36 * time.Hour, 36 * time.Hour},
		{0, 36 * time.Hour},
		{30 * 24 * time.Hour, 30 * 24 * time.Hour},
	} {
		got, err := retention(t.Context(), st, Options{Retention: c.opt})
		if err != nil || got != c.want {
			t.Errorf("retention with option %v = %v, %v; want %v", c.opt, got, err, c.want)
		}
	}
	if err := st.SetSetting(t.Context(), store.SettingRetention, "a week"); err != nil {
		t.Fatal(err)
	}
	if _, err := retention(t.Context(), st, Options{}); err == nil {
		t.Error("a stored retention that is not a duration was accepted")
	}
}

// onceStore is a store whose once-only lock another replica may hold.
type onceStore struct {
	Store
	held   bool
	prunes int
}

func (s *onceStore) Prune(ctx context.Context, cutoff time.Time) (store.PruneResult, error) {
	s.prunes++
	return store.PruneResult{Events: 3}, nil
}

func (s *onceStore) TryOnce(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	if s.held {
		return false, nil
	}
	return true, fn(ctx)
}

// On a store replicas share, retention runs only where the once-only lock
// is free: a replica that finds another pruning skips its turn.
func TestRetentionRunsOnceAmongReplicas(t *testing.T) {
	st := &onceStore{held: true}
	if _, ran, err := pruneOnce(t.Context(), st, time.Now()); ran || err != nil || st.prunes != 0 {
		t.Fatalf("with the lock held elsewhere: ran %v, err %v, %d prunes; want it skipped", ran, err, st.prunes)
	}
	st.held = false
	res, ran, err := pruneOnce(t.Context(), st, time.Now())
	if !ran || err != nil || st.prunes != 1 || res.Events != 3 {
		t.Fatalf("with the lock free: ran %v, err %v, %d prunes, result %+v; want one prune and its result", ran, err, st.prunes, res)
	}
}
