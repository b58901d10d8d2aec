package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// `serve` blocks until a signal, so the engine it starts is tested directly.
func TestEngineServes(t *testing.T) {
	db := tempDB(t)
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Start(t.Context(), st, engine.Options{Listen: "127.0.0.1:0", UserSecret: "user-from-flag", OrgSecret: "org-from-flag"})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			e.Stop()
		}
	}()
	if strings.HasSuffix(e.Addr, ":0") || e.PublicURL != "http://"+e.Addr {
		t.Fatalf("addr %q public URL %q", e.Addr, e.PublicURL)
	}
	base := "http://" + e.Addr

	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Elements-Request-Id") == "" {
		t.Fatalf("/health: %d %s", resp.StatusCode, body)
	}

	seed, err := os.ReadFile(fixture("seeds/pipedrive-polling.json"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(auth string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/elements/api-v2/instances", bytes.NewReader(seed))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, b := post("User user-from-flag, Organization wrong"); resp.StatusCode != 401 || !strings.Contains(string(b), "the API secrets do not match") {
		t.Fatalf("wrong org: %d %s", resp.StatusCode, b)
	}
	resp, b := post("User user-from-flag, Organization org-from-flag")
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var in provider.InstanceJSON
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if in.ID != 1 || in.Element.Key != "pipedrive" || in.WebhookURL != base+"/elements/api-v2/events/pipedrive/MQ==" {
		t.Errorf("created %d %s %s", in.ID, in.Element.Key, in.WebhookURL)
	}
	noSecrets(t, "engine create", string(b))

	if err := e.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	stopped = true
	select {
	case <-e.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := e.Stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("listener still answers after Stop")
	}

	// The store is closed and the file free: the command line sees what the
	// engine did, and prints the secrets it was given.
	sec := parseSecrets(t, mustRun(t, db, "secrets"))
	if sec.User != "user-from-flag" || sec.Organization != "org-from-flag" {
		t.Errorf("secrets prints %v, want the ones given to Start", sec)
	}
	if list := mustRun(t, db, "instances", "list"); !strings.Contains(list, "Pipedrive polling") {
		t.Errorf("list after serve:\n%s", list)
	}
}

// Without secrets given, Start uses the stored ones, generating them once.
func TestEngineStoredSecrets(t *testing.T) {
	db := tempDB(t)
	want := parseSecrets(t, mustRun(t, db, "secrets"))
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Start(t.Context(), st, engine.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if e.Secrets != want {
		t.Errorf("engine uses %v, secrets printed %v", e.Secrets, want)
	}
	req, _ := http.NewRequest("GET", "http://"+e.Addr+"/elements/api-v2/elements", nil)
	req.Header.Set("Authorization", "Organization "+want.Organization+", User "+want.User)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.Stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /elements with the printed secrets: %d", resp.StatusCode)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := parseSecrets(t, mustRun(t, db, "secrets")); got != want {
		t.Errorf("secrets changed by serve: %v, %v", got, want)
	}
}

func TestServeArguments(t *testing.T) {
	db := tempDB(t)
	if r := run(t, db, "", "serve", "extra"); r.code != 2 || !strings.Contains(r.stderr, "no arguments") {
		t.Errorf("serve extra: %d %q", r.code, r.stderr)
	}
	if r := run(t, db, "", "serve", "--log-level", "loud"); r.code != 2 || !strings.Contains(r.stderr, "--log-level") {
		t.Errorf("serve --log-level loud: %d %q", r.code, r.stderr)
	}
	// A listen address that cannot be had fails fast and frees the file.
	if r := run(t, db, "", "serve", "--listen", "256.0.0.1:1"); r.code != 1 || !strings.Contains(r.stderr, "--listen") {
		t.Errorf("serve on a bad address: %d %q", r.code, r.stderr)
	}
	mustRun(t, db, "secrets")
}
