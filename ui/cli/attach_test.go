package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/store"
)

// startEngine runs the engine on db in this process on a free loopback
// port, as `eventdesk serve` would, and stops it at the end of the test.
func startEngine(t *testing.T, db string, opts engine.Options) *engine.Engine {
	t.Helper()
	st, err := store.Open(db, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	e, err := engine.Start(t.Context(), st, opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e
}

// runEnv is run with more environment variables.
func runEnv(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(k string) string { return vars[k] }}
	code := Run(args, env)
	return result{code, out.String(), errb.String()}
}

func engineInstances(t *testing.T, e *engine.Engine) []model.Instance {
	t.Helper()
	all, err := e.Store.Instances(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// Every verb works next to a running engine: it attaches over loopback
// with the secrets of the .engine file instead of failing on the lock,
// and what it changes, the engine has.
func TestVerbsAttachToTheEngineHoldingTheDatabase(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	e := startEngine(t, db, engine.Options{UserSecret: "user-secret-1", OrgSecret: "org-secret-1"})

	if out := mustRun(t, db, "instances", "list"); !strings.Contains(out, "Pipedrive webhook") {
		t.Errorf("list: %q", out)
	}
	r := run(t, db, "", "instances", "list", "--verbose")
	if want := fmt.Sprintf("attached to serve · pid %d · %s", os.Getpid(), e.Addr); !strings.Contains(r.stderr, want) {
		t.Errorf("--verbose says %q, want %q", r.stderr, want)
	}
	if r := run(t, db, "", "instances", "list"); r.stderr != "" {
		t.Errorf("without --verbose stderr is %q, want nothing", r.stderr)
	}

	out := mustRun(t, db, "instances", "create", "-f", fixture("seeds/closeio-webhook.json"))
	noSecrets(t, "create's answer", strings.ReplaceAll(out, `"token"`, ""))
	if got := engineInstances(t, e); len(got) != 2 || got[1].Name != "Close webhook" {
		t.Fatalf("the engine holds %d instances after create", len(got))
	}
	show := mustRun(t, db, "instances", "show", "2")
	noSecrets(t, "show", show)
	if !strings.Contains(show, `"webhookUrl": "`+e.PublicURL+`/elements/api-v2/events/closeio/Mg=="`) {
		t.Errorf("show: %s", show)
	}
	if out := mustRun(t, db, "webhook-url", "1"); out != e.PublicURL+"/elements/api-v2/events/pipedrive/MQ==\n" {
		t.Errorf("webhook-url: %q", out)
	}
	if sec := parseSecrets(t, mustRun(t, db, "secrets")); sec.User != "user-secret-1" || sec.Organization != "org-secret-1" {
		t.Errorf("secrets: %+v", sec)
	}
	if out := mustRun(t, db, "notifications", "list", "--state", "failing"); !strings.Contains(out, "no notifications") {
		t.Errorf("notifications: %q", out)
	}
	if r := run(t, db, "", "events", "list"); r.code != 0 || !strings.Contains(r.stderr, "no events match") {
		t.Errorf("events list: %d %q %q", r.code, r.stdout, r.stderr)
	}
	backup := filepath.Join(t.TempDir(), "hot.db")
	if out := mustRun(t, db, "backup", backup); !strings.Contains(out, fmt.Sprintf("hot copy from the running eventdesk (pid %d)", os.Getpid())) {
		t.Errorf("backup: %q", out)
	}
	if got := len(storedInstances(t, backup)); got != 2 {
		t.Errorf("the hot copy holds %d instances", got)
	}
	if r := run(t, db, "", "instances", "show", "99"); r.code != 1 || !strings.Contains(r.stderr, "no such instance 99") || !strings.Contains(r.stderr, e.Addr) {
		t.Errorf("show 99: %d %q", r.code, r.stderr)
	}
	// A validation error comes back with every problem, as on the file.
	if r := run(t, db, "", "instances", "create", "-f", fixture("bad/closeio-placeholders.json")); r.code != 1 || !strings.Contains(r.stderr, "<INSERT_CLOSE_IO_API_KEY>") {
		t.Errorf("bad create: %d %q", r.code, r.stderr)
	}
	if out := mustRun(t, db, "instances", "delete", "2"); out != "deleted instance 2\n" {
		t.Errorf("delete: %q", out)
	}
	if got := engineInstances(t, e); len(got) != 1 {
		t.Errorf("the engine holds %d instances after delete", len(got))
	}
}

// A stale .engine file (a crashed engine) is not attached to: with the
// database free, the verb opens it directly.
func TestStaleEngineFileIsIgnored(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	gone := `{"pid":2147483646,"url":"http://127.0.0.1:1","user":"u","organization":"o"}`
	if err := os.WriteFile(engine.RuntimePath(db), []byte(gone), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, db, "", "instances", "list", "--verbose")
	if r.code != 0 || !strings.Contains(r.stdout, "Pipedrive webhook") || !strings.Contains(r.stderr, "directly") {
		t.Errorf("list with a stale engine file: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestServerFlagAttachesRemotely(t *testing.T) {
	db := tempDB(t)
	e := startEngine(t, db, engine.Options{UserSecret: "u-remote", OrgSecret: "o-remote"})
	base := "http://" + e.Addr
	vars := map[string]string{"EVENTDESK_SERVER": base, "EVENTDESK_USER_SECRET": "u-remote", "EVENTDESK_ORG_SECRET": "o-remote",
		"EVENTDESK_DB": filepath.Join(t.TempDir(), "never.db")}
	if r := runEnv(t, vars, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json")); r.code != 0 {
		t.Fatalf("create: %d %q", r.code, r.stderr)
	}
	if r := runEnv(t, vars, "instances", "list"); r.code != 0 || !strings.Contains(r.stdout, "Pipedrive webhook") {
		t.Errorf("list: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(vars["EVENTDESK_DB"]); !os.IsNotExist(err) {
		t.Errorf("--server touched the local database path: %v", err)
	}
	vars["EVENTDESK_ORG_SECRET"] = "wrong"
	if r := runEnv(t, vars, "instances", "list"); r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "--org-secret") {
		t.Errorf("wrong secret: %d %q", r.code, r.stderr)
	}
	delete(vars, "EVENTDESK_USER_SECRET")
	if r := runEnv(t, vars, "instances", "list"); r.code != 1 || !strings.Contains(r.stderr, "needs the API secrets") {
		t.Errorf("no secret: %d %q", r.code, r.stderr)
	}
	// Secrets never travel in clear to another machine unless --insecure.
	r := runEnv(t, nil, "instances", "list", "--server", "http://192.0.2.7:8470", "--user-secret", "u", "--org-secret", "o")
	if r.code != 1 || !strings.Contains(r.stderr, "plain http to 192.0.2.7") || !strings.Contains(r.stderr, "--insecure") {
		t.Errorf("plain http to a remote host: %d %q", r.code, r.stderr)
	}
	// A dead server: one sentence naming it and what to check.
	r = runEnv(t, nil, "instances", "list", "--server", "http://127.0.0.1:1", "--user-secret", "u", "--org-secret", "o")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach eventdesk at http://127.0.0.1:1") {
		t.Errorf("dead server: %d %q", r.code, r.stderr)
	}
}

// writeCert makes a self-signed certificate for names and writes it and
// its key as PEM files.
func writeCert(t *testing.T, names ...string) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

// serve --tls-cert/--tls-key serves HTTPS; a local verb attaches with the
// certificate the .engine file pins (its name is the public one, not the
// loopback address), and a client without the certificate is refused.
func TestServeHTTPSAndLocalAttach(t *testing.T) {
	db := tempDB(t)
	cert, key, _ := writeCert(t, "events.example.com")
	e := startEngine(t, db, engine.Options{TLSCert: cert, TLSKey: key})
	if !strings.HasPrefix(e.PublicURL, "https://") {
		t.Errorf("public URL %q is not https", e.PublicURL)
	}
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	if got := engineInstances(t, e); len(got) != 1 {
		t.Fatalf("the HTTPS engine holds %d instances", len(got))
	}
	sec := parseSecrets(t, mustRun(t, db, "secrets"))
	r := runEnv(t, nil, "instances", "list", "--server", "https://"+e.Addr, "--user-secret", sec.User, "--org-secret", sec.Organization)
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("an unknown certificate was accepted: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, _, err := engineStart(db, cert, ""); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("a certificate without key: %v", err)
	}
}

// engineStart tries to start an engine with a TLS pair (for the error).
func engineStart(db, cert, key string) (*engine.Engine, *store.Store, error) {
	st, err := store.Open(filepath.Join(filepath.Dir(db), "other.db"), store.Options{NoSync: true})
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	e, err := engine.Start(context.Background(), st, engine.Options{Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key})
	return e, st, err
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// events tail follows an attached engine: every event stored after it
// started is printed once, in order, filtered as asked.
func TestEventsTailFollowsTheEngine(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	e := startEngine(t, db, engine.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int)
	go func() {
		env := Env{Stdout: out, Stderr: errb, Stdin: strings.NewReader(""), Context: ctx,
			Getenv: func(k string) string {
				if k == "EVENTDESK_DB" {
					return db
				}
				return ""
			}}
		done <- Run([]string{"events", "tail", "--json", "type:deals"}, env)
	}()
	add := func(obj string, n int) {
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = model.Event{InstanceID: 1, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: obj,
				ObjectID: fmt.Sprint(time.Now().UnixNano(), i), EventType: model.Created, Raw: json.RawMessage(`{}`)}
		}
		if _, err := e.Store.AppendEvents(ctx, evs); err != nil {
			t.Error(err)
		}
	}
	// Tail starts from the newest event at its start: add until it shows.
	waitFor(t, "tail prints a first event", func() bool {
		add("deals", 1)
		time.Sleep(20 * time.Millisecond)
		return strings.Contains(out.String(), "\n")
	})
	first := strings.Count(out.String(), "\n")
	for range 20 {
		add("deals", 5)
		add("persons", 5) // filtered out
	}
	waitFor(t, "tail prints 100 more deals", func() bool { return strings.Count(out.String(), "\n") >= first+100 })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("tail ended with %d: %s", code, errb.String())
	}
	var last uint64
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev model.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if ev.ObjectType != "deals" {
			t.Errorf("the filter let through %s", ev.ObjectType)
		}
		if ev.Seq() <= last {
			t.Errorf("event %d after %d: out of order or twice", ev.Seq(), last)
		}
		last = ev.Seq()
	}
}

// Contexts: add, list, use, remove; the file is 0600; --context and the
// current context attach; an explicit --db wins over the current context;
// "use -" goes back to the local database.
func TestContexts(t *testing.T) {
	db := tempDB(t)
	e := startEngine(t, db, engine.Options{UserSecret: "u-ctx", OrgSecret: "o-ctx"})
	cfg, data := t.TempDir(), t.TempDir()
	t.Setenv("XDG_DATA_HOME", data) // the default database path
	local := filepath.Join(data, "eventdesk", "eventdesk.db")
	vars := map[string]string{"XDG_CONFIG_HOME": cfg}
	if r := runEnv(t, vars, "context", "add", "lab", "--server", "http://"+e.Addr, "--user-secret", "u-ctx", "--org-secret", "o-ctx"); r.code != 0 {
		t.Fatalf("add: %d %q", r.code, r.stderr)
	}
	path := filepath.Join(cfg, "eventdesk", "contexts.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("contexts file: %v %v", fi, err)
	}
	if r := runEnv(t, vars, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"), "--context", "lab"); r.code != 0 {
		t.Fatalf("create in context: %d %q", r.code, r.stderr)
	}
	if got := engineInstances(t, e); len(got) != 1 {
		t.Fatalf("the context's engine holds %d instances", len(got))
	}
	if r := runEnv(t, vars, "context", "use", "lab"); r.code != 0 {
		t.Fatalf("use: %d %q", r.code, r.stderr)
	}
	if r := runEnv(t, vars, "context", "list"); !regexp.MustCompile(`(?m)^\*\s+lab\s+http://` + regexp.QuoteMeta(e.Addr) + `$`).MatchString(r.stdout) {
		t.Errorf("list: %q", r.stdout)
	}
	if r := runEnv(t, vars, "instances", "list"); !strings.Contains(r.stdout, "Pipedrive webhook") {
		t.Errorf("list in the current context: %q %q", r.stdout, r.stderr)
	}
	if r := runEnv(t, vars, "instances", "list", "--db", local); r.code != 1 || !strings.Contains(r.stderr, "no database at "+local) {
		t.Errorf("--db with a current context: %d %q, want the local database", r.code, r.stderr)
	}
	if r := runEnv(t, vars, "instances", "list", "--context", "nope"); r.code != 1 || !strings.Contains(r.stderr, `no context "nope"`) {
		t.Errorf("unknown context: %d %q", r.code, r.stderr)
	}
	runEnv(t, vars, "context", "use", "-")
	if r := runEnv(t, vars, "instances", "list"); r.code != 1 || !strings.Contains(r.stderr, "no database at "+local) {
		t.Errorf("after use -: %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(local); !os.IsNotExist(err) {
		t.Errorf("a read-only verb created %s: %v", local, err)
	}
	if r := runEnv(t, vars, "context", "remove", "lab"); r.code != 0 {
		t.Errorf("remove: %d %q", r.code, r.stderr)
	}
	if r := runEnv(t, vars, "context", "list"); !strings.Contains(r.stdout, "no contexts yet") {
		t.Errorf("list after remove: %q", r.stdout)
	}
}

// poll and webhook register/unregister, next to a running engine, run in
// it: the poll status and the webhook subscription land in the engine's
// store, and the webhook URL is the engine's.
func TestPollAndWebhookRunInTheAttachedEngine(t *testing.T) {
	vendor := httptest.NewServer(fakepipedrive.New(fakepipedrive.Options{}))
	defer vendor.Close()
	db := tempDB(t)
	inst := filepath.Join(t.TempDir(), "instance.json")
	body := fmt.Sprintf(`{"element":{"key":"pipedrive"},"name":"Fake polling","configuration":{
		"pipedrive.api.token":%q,"base.url":%q,"event.notification.enabled":true,"event.vendor.type":"polling",
		"event.notification.callback.url":"https://app.example.com/cb",
		"event.poller.configuration":{"contacts":{"url":"/hubs/crm/contacts","idField":"id","datesConfiguration":{"updatedDateField":"update_time","createdDateField":"add_time"}}}}}`,
		fakepipedrive.DefaultAPIToken, vendor.URL+"/v1")
	if err := os.WriteFile(inst, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, db, "instances", "create", "-f", inst)
	e := startEngine(t, db, engine.Options{})
	r := run(t, db, "", "poll", "1", "--resource", "contacts")
	if r.code != 0 || !strings.Contains(r.stderr, "contacts: 1 page(s)") {
		t.Fatalf("poll: %d %q %q", r.code, r.stdout, r.stderr)
	}
	sts, err := e.Store.PollStatuses(t.Context(), 1)
	if err != nil || len(sts) != 1 || sts[0].LastEnd.IsZero() {
		t.Errorf("the engine has no poll status: %+v %v", sts, err)
	}
	// The fake vendor is on loopback too, so a loopback webhook URL is fine.
	out := mustRun(t, db, "webhook", "register", "1")
	if !strings.Contains(out, "→ "+e.PublicURL+"/elements/api-v2/events/pipedrive/MQ==") {
		t.Errorf("register: %q", out)
	}
	if in, err := e.Store.Instance(t.Context(), 1); err != nil || in.Configuration[model.KeyWebhookID] == "" {
		t.Errorf("the engine's instance has no webhook id: %v", err)
	}
	if out := mustRun(t, db, "webhook", "unregister", "1"); !strings.Contains(out, "unregistered the pipedrive webhook of instance 1") {
		t.Errorf("unregister: %q", out)
	}
	if in, err := e.Store.Instance(t.Context(), 1); err != nil || in.Configuration[model.KeyWebhookID] != "" {
		t.Errorf("the engine's instance kept its webhook id: %v", err)
	}
}

// The secrets an attached verb sends can come from files, which ps does not
// show: on a verb with --server and on context add. Both a secret and its
// file is a usage error.
func TestAttachSecretsFromFiles(t *testing.T) {
	db := tempDB(t)
	e := startEngine(t, db, engine.Options{UserSecret: "u-file", OrgSecret: "o-file"})
	dir := t.TempDir()
	uf, of := filepath.Join(dir, "user"), filepath.Join(dir, "org")
	if err := os.WriteFile(uf, []byte("u-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(of, []byte("o-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://" + e.Addr
	if r := runEnv(t, nil, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"), "--server", base,
		"--user-secret-file", uf, "--org-secret-file", of); r.code != 0 {
		t.Fatalf("create with secret files: %d %q", r.code, r.stderr)
	}
	if got := engineInstances(t, e); len(got) != 1 {
		t.Fatalf("the engine holds %d instances, want the one created", len(got))
	}
	if r := runEnv(t, nil, "instances", "list", "--server", base, "--user-secret", "u-file", "--user-secret-file", uf, "--org-secret-file", of); r.code != 2 {
		t.Errorf("a secret and its file: exit %d %q, want 2", r.code, r.stderr)
	}
	cfg := t.TempDir()
	vars := map[string]string{"XDG_CONFIG_HOME": cfg}
	if r := runEnv(t, vars, "context", "add", "lab", "--server", base, "--user-secret-file", uf, "--org-secret-file", of); r.code != 0 {
		t.Fatalf("context add with secret files: %d %q", r.code, r.stderr)
	}
	if r := runEnv(t, vars, "instances", "list", "--context", "lab"); r.code != 0 || !strings.Contains(r.stdout, "Pipedrive webhook") {
		t.Errorf("list in the context added from files: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
