package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// receiver counts the callbacks it gets by webhook-id.
type receiver struct {
	mu   sync.Mutex
	hits map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	r.hits[req.Header.Get("webhook-id")]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.hits))
	for k, v := range r.hits {
		out[k] = v
	}
	return out
}

// seedDeployment writes a bbolt deployment that was never served: a
// webhook instance calling back to cb, n events and their n pending
// notifications, a public URL and the API secrets. It returns the
// instance, the pending notifications' webhook ids and the secrets.
func seedDeployment(t *testing.T, db, cb string, n int) (model.Instance, []string, store.Secrets) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(db, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	name := "moved"
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: &name,
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "webhook"
	in.Configuration[model.KeyCallbackURL] = cb
	if in, err = st.CreateInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// One webhook delivery each, as vendors send them: one
		// notification each.
		e := model.Event{InstanceID: in.ID, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "deals", ObjectID: fmt.Sprint(i), EventType: model.Updated, VendorEventID: fmt.Sprint("v", i),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))}
		if _, err := st.AppendEvents(ctx, []model.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := st.NotificationsAfter(ctx, 0, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, nt := range ns {
		if nt.State != model.StatePending {
			t.Fatalf("notification %s is %s, want pending", nt.ID, nt.State)
		}
		ids = append(ids, nt.WebhookID)
	}
	if len(ids) != n {
		t.Fatalf("%d notifications for %d events, want one each", len(ids), n)
	}
	if err := st.SetSetting(ctx, store.SettingPublicURL, "https://hooks.example.com"); err != nil {
		t.Fatal(err)
	}
	sec, err := st.APISecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return in, ids, sec
}

// A bbolt deployment copied to PostgreSQL and served there: the same
// instance with the same webhook URL and API secrets, and every pending
// notification delivered exactly once.
func TestCopyToPostgresThenServe(t *testing.T) {
	url := pgtest.URL(t)
	rcv := &receiver{hits: map[string]int{}}
	cb := httptest.NewServer(rcv)
	defer cb.Close()
	db := tempDB(t)
	const pending = 30
	in, ids, sec := seedDeployment(t, db, cb.URL+"/cb", pending)
	wantURL := model.WebhookURL("https://hooks.example.com", in.ElementKey, in.ID)

	r := runEnv(t, nil, "copy", "--from", db, "--to", url, "--batch", "7")
	if r.code != 0 || !strings.Contains(r.stdout, "every table's counts match") {
		t.Fatalf("copy: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("%-16s %12d %12d", "notifications", pending, pending)) {
		t.Errorf("the counts table does not show %d notifications at both ends:\n%s", pending, r.stdout)
	}

	st, err := engine.OpenStore(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Start(t.Context(), st, engine.Options{Listen: "127.0.0.1:0"})
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
	if e.PublicURL != "https://hooks.example.com" || e.Secrets != sec {
		t.Errorf("engine on the copy: public URL %q, secrets %+v; want the source's", e.PublicURL, e.Secrets)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/elements/api-v2/instances/%d", e.Addr, in.ID), nil)
	req.Header.Set("Authorization", "User "+sec.User+", Organization "+sec.Organization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got provider.InstanceJSON
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET instance: %d %v", resp.StatusCode, err)
	}
	if got.WebhookURL != wantURL || got.Name != in.Name {
		t.Errorf("instance on PostgreSQL: %q webhook URL %q, want %q %q", got.Name, got.WebhookURL, in.Name, wantURL)
	}

	// The engine's backup endpoint says to use pg_dump, password masked,
	// and the backup command passes the advice on, succeeding.
	req, _ = http.NewRequest("GET", fmt.Sprintf("http://%s/elements/api-v2/backup", e.Addr), nil)
	req.Header.Set("Authorization", "User "+sec.User+", Organization "+sec.Organization)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "pg_dump -Fc -f eventdesk.dump") {
		t.Errorf("GET /backup on PostgreSQL: %d %s; want 501 with the pg_dump command", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "xxxxx") || !strings.Contains(string(body), "***") {
		t.Errorf("GET /backup on PostgreSQL does not mask the password as ***: %s", body)
	}
	r = runEnv(t, map[string]string{"EVENTDESK_SERVER": "http://" + e.Addr, "EVENTDESK_USER_SECRET": sec.User, "EVENTDESK_ORG_SECRET": sec.Organization},
		"backup", filepath.Join(t.TempDir(), "x.db"))
	if r.code != 0 || !strings.Contains(r.stdout, "pg_dump -Fc") {
		t.Errorf("backup --server on PostgreSQL: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	// A second handle on the shared database watches the outbox drain.
	watch, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	waitFor(t, "every copied notification is delivered", func() bool {
		p, _, err := watch.NotificationCounts(t.Context())
		return err == nil && p == 0 && len(rcv.snapshot()) == pending
	})
	// Stopped, nothing more can be sent: the counts are final.
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	hits := rcv.snapshot()
	for _, id := range ids {
		if hits[id] != 1 {
			t.Errorf("notification %s reached the receiver %d times, want once", id, hits[id])
		}
	}
	if len(hits) != pending {
		t.Errorf("the receiver saw %d webhook ids, want the %d copied", len(hits), pending)
	}
}

// copy between bbolt files: the destination is created 0600, a second
// copy into it is refused (exit 1) unless --force, and bad command lines
// exit 2.
func TestCopyCommandBetweenFiles(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	seedDeployment(t, src, "http://127.0.0.1:1/cb", 5)
	r := runEnv(t, nil, "copy", "--from", src, "--to", dst)
	if r.code != 0 || !strings.Contains(r.stdout, "copied 5 events") {
		t.Fatalf("copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("destination mode %v (%v), want 0600", fi.Mode(), err)
	}
	r = runEnv(t, nil, "copy", "--from", src, "--to", dst)
	if r.code != 1 || !strings.Contains(r.stderr, "the destination is not empty") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("copy into a full file: exit %d, stderr %q; want 1 and --force suggested", r.code, r.stderr)
	}
	if r := runEnv(t, nil, "copy", "--from", src, "--to", dst, "--force"); r.code != 0 {
		t.Errorf("copy --force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Forced into a store with more events than the source, the counts
	// differ: exit 1, the table marked.
	other := filepath.Join(dir, "other.db")
	seedDeployment(t, other, "http://127.0.0.1:1/cb", 9)
	r = runEnv(t, nil, "copy", "--from", src, "--to", other, "--force")
	if r.code != 1 || !strings.Contains(r.stdout, "DIFFERENT") || !strings.Contains(r.stderr, "the counts differ for events, dedupe_keys, notifications") {
		t.Errorf("copy --force into a fuller store: exit %d\nstdout %s\nstderr %s; want 1 and the differing tables named", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"copy", "--from", src},
		{"copy", "--from", src, "--to", src},
		{"copy", "--from", src, "--to", dst, "--batch", "0"},
		{"copy", "--from", src, "--to", dst, "extra"},
	} {
		if r := runEnv(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
	if r := runEnv(t, nil, "copy", "--from", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "c.db")); r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("copy from a missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.db")); err == nil {
		t.Error("a copy from a missing file created the destination")
	}
}

// serve --store postgres://… runs the engine on PostgreSQL: a verb working
// on the database directly sees what the API created, the logs never show
// the password, no .engine file is attempted, and SIGTERM stops it with
// exit 0.
func TestServeOnPostgres(t *testing.T) {
	url := pgtest.URL(t) + "&password=s3cretpw" // the test server trusts; the password only has to stay hidden
	dir := t.TempDir()
	p := startBinary(t, dir, "serve", "--store", url, "--listen", "127.0.0.1:0", "--user-secret", "u-secret", "--org-secret", "o-secret")
	deadline := time.Now().Add(60 * time.Second)
	addr := ""
	for addr == "" {
		if _, after, ok := strings.Cut(p.stderrText(), "msg=listening addr="); ok {
			addr, _, _ = strings.Cut(after, " ")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start listening; stderr:\n%s", p.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := runEnv(t, map[string]string{"EVENTDESK_STORE": url}, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json")); r.code != 0 {
		t.Fatalf("instances create on PostgreSQL: exit %d\n%s", r.code, r.stderr)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/elements/api-v2/instances", nil)
	req.Header.Set("Authorization", "User u-secret, Organization o-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Pipedrive polling") {
		t.Errorf("serve on PostgreSQL lists %d %s; want the instance the verb created", resp.StatusCode, body)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderrText())
	}
	logs := p.stderrText()
	if strings.Contains(logs, "s3cretpw") || !strings.Contains(logs, "password=***") {
		t.Errorf("serve's log shows the password or does not name the database masked:\n%s", logs)
	}
	if strings.Contains(logs, "engine file") {
		t.Errorf("serve on PostgreSQL tried to write an .engine file:\n%s", logs)
	}
}

// A bbolt source held by a running engine is refused: a copy needs the
// deployment at rest.
func TestCopyRefusesASourceInUse(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.db")
	seedDeployment(t, src, "http://127.0.0.1:1/cb", 2)
	startEngine(t, src, engine.Options{})
	r := runEnv(t, nil, "copy", "--from", src, "--to", filepath.Join(dir, "b.db"))
	if r.code != 1 || !strings.Contains(r.stderr, "stop the eventdesk using it") {
		t.Errorf("copy from a served file: exit %d, stderr %q; want 1 and what to do", r.code, r.stderr)
	}
}
