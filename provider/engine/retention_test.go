package engine

import (
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
