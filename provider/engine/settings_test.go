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

// sharedSettings is a bbolt store that says it is shared, as a PostgreSQL
// store does.
type sharedSettings struct{ *store.Store }

func (sharedSettings) Shared() bool { return true }

// Replicas share their settings but not their listen address: one
// replica's --listen is neither stored for the others nor read from the
// store; the public URL, the balancer's, is shared.
func TestSharedStoreKeepsListenPerReplica(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	if err := st.SetSetting(ctx, store.SettingListen, "127.0.0.1:9999"); err != nil {
		t.Fatal(err)
	}
	shared := sharedSettings{st}
	listen, _, _, err := Settings(ctx, shared, Options{})
	if err != nil || listen != DefaultListen {
		t.Errorf("listen on a shared store without --listen: %q (%v), want the default %q, not another replica's", listen, err, DefaultListen)
	}
	if err := remember(ctx, shared, Options{Listen: "127.0.0.1:8472", PublicURL: "https://lb.example.com"}, "127.0.0.1:8472"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := st.Setting(ctx, store.SettingListen); v != "127.0.0.1:9999" {
		t.Errorf("stored listen %q after a replica started, want it untouched", v)
	}
	if v, _, _ := st.Setting(ctx, store.SettingPublicURL); v != "https://lb.example.com" {
		t.Errorf("stored public URL %q, want the balancer's shared", v)
	}
	// Unshared, the listen address is remembered as ever.
	if listen, _, _, _ := Settings(ctx, st, Options{}); listen != "127.0.0.1:9999" {
		t.Errorf("listen on bbolt: %q, want the stored one", listen)
	}
}
