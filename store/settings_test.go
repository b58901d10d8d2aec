package store

import (
	"encoding/base64"
	"path/filepath"
	"sync"
	"testing"
)

func TestSettings(t *testing.T) {
	s := openTest(t, nil)
	if v, ok, err := s.Setting(t.Context(), SettingListen); err != nil || ok || v != "" {
		t.Errorf("missing setting = %q, %v, %v", v, ok, err)
	}
	if err := s.SetSetting(t.Context(), SettingListen, "127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(t.Context(), SettingListen, ":9090"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Setting(t.Context(), SettingListen); err != nil || !ok || v != ":9090" {
		t.Errorf("setting = %q, %v, %v; want :9090", v, ok, err)
	}
	// An empty value is stored and distinguishable from a missing one.
	if err := s.SetSetting(t.Context(), SettingPublicURL, ""); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Setting(t.Context(), SettingPublicURL); err != nil || !ok || v != "" {
		t.Errorf("empty setting = %q, %v, %v; want present and empty", v, ok, err)
	}
}

func TestAPISecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent first uses agree on one pair.
	var wg sync.WaitGroup
	got := make([]Secrets, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec, err := s.APISecrets(t.Context())
			if err != nil {
				t.Error(err)
			}
			got[i] = sec
		}()
	}
	wg.Wait()
	sec := got[0]
	for _, g := range got {
		if g != sec {
			t.Fatalf("APISecrets not stable: %+v vs %+v", g, sec)
		}
	}
	if sec.User == "" || sec.Organization == "" || sec.User == sec.Organization {
		t.Errorf("secrets must be set and distinct: %+v", sec)
	}
	for _, v := range []string{sec.User, sec.Organization} {
		if raw, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(raw) < 16 {
			t.Errorf("secret %q is not a long random value (%d bytes, %v)", v, len(raw), err)
		}
	}
	if v, ok, _ := s.Setting(t.Context(), SettingUserSecret); !ok || v != sec.User {
		t.Errorf("user secret setting = %q, want %q", v, sec.User)
	}
	if v, ok, _ := s.Setting(t.Context(), SettingOrgSecret); !ok || v != sec.Organization {
		t.Errorf("org secret setting = %q, want %q", v, sec.Organization)
	}
	s.Close()

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if again, err := s2.APISecrets(t.Context()); err != nil || again != sec {
		t.Errorf("secrets after reopen = %+v, %v; want %+v", again, err, sec)
	}

	// A fresh store generates different secrets.
	other := openTest(t, nil)
	osec, err := other.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if osec.User == sec.User || osec.Organization == sec.Organization {
		t.Errorf("two stores share secrets: %+v", osec)
	}

	// A secret set explicitly is kept; only the missing one is generated.
	third := openTest(t, nil)
	if err := third.SetSetting(t.Context(), SettingUserSecret, "chosen"); err != nil {
		t.Fatal(err)
	}
	tsec, err := third.APISecrets(t.Context())
	if err != nil || tsec.User != "chosen" || tsec.Organization == "" || tsec.Organization == "chosen" {
		t.Errorf("APISecrets with a preset user secret = %+v, %v", tsec, err)
	}
}
