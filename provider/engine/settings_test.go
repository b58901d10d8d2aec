package engine

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/store"
)

func TestPublicURLIsCheckedAndCanBeForgotten(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, bad := range []string{"127.0.0.1:1", "ftp://x.example", "https://", "https://x.example/?a=1", "https://x.example/#f", "events.example.com"} {
		if _, _, _, err := Settings(t.Context(), st, Options{PublicURL: bad}); err == nil || !strings.Contains(err.Error(), "use an absolute http(s) URL") {
			t.Errorf("public URL %q: %v, want a clear refusal", bad, err)
		}
	}

	e, err := Start(t.Context(), st, Options{Listen: "127.0.0.1:0", PublicURL: "https://events.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if e.PublicURL != "https://events.example.com" {
		t.Errorf("public URL %q, want it without the trailing slash", e.PublicURL)
	}
	e.Stop()

	st2 := reopen(t, st.Path())
	if _, public, _, err := Settings(t.Context(), st2, Options{}); err != nil || public != "https://events.example.com" {
		t.Errorf("stored public URL %q (%v), want it remembered", public, err)
	}
	_, public, _, err := Settings(t.Context(), st2, Options{Listen: "127.0.0.1:8471", PublicURL: UseDefault})
	if err != nil || public != "http://127.0.0.1:8471" {
		t.Errorf("after %q: public URL %q (%v), want http://LISTEN", UseDefault, public, err)
	}
	if v, _, _ := st2.Setting(t.Context(), store.SettingPublicURL); v != "" {
		t.Errorf("stored public URL %q after %q, want none", v, UseDefault)
	}
}

func reopen(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
