package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/store"
)

// The secret values of the testdata fixtures.
var fixtureSecrets = []string{"pd-Secret-Pass-1", "api_close_KEY_0123456789", "close-Secret-Pass-2", "pd-api-TOKEN-abcdef"}

func fixture(name string) string { return filepath.Join("..", "..", "testdata", name) }

type result struct {
	code           int
	stdout, stderr string
}

// run calls Run in-process with EVENTDESK_DB=db and nothing else set.
func run(t *testing.T, db string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin),
		Getenv: func(k string) string {
			if k == "EVENTDESK_DB" {
				return db
			}
			return ""
		},
	}
	code := Run(args, env)
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, db string, args ...string) string {
	t.Helper()
	r := run(t, db, "", args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "data", "eventdesk.db")
}

func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range fixtureSecrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s shows the secret %q", what, sec)
		}
	}
}

func storedInstances(t *testing.T, db string) []model.Instance {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.Instances(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestInstancesLifecycle(t *testing.T) {
	db := tempDB(t)
	// A read-only verb on a path with no database says so and creates none.
	if r := run(t, db, "", "instances", "list"); r.code != 1 || !strings.Contains(r.stderr, "no database at "+db) {
		t.Errorf("list of a missing database: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a read-only verb created the database: %v", err)
	}
	files := []struct {
		file, key, vendorType, name string
	}{
		{"pipedrive-polling.json", "pipedrive", "polling", "Pipedrive polling"},
		{"pipedrive-webhook.json", "pipedrive", "webhook", "Pipedrive webhook"},
		{"closeio-polling.json", "closeio", "polling", "Close polling"},
		{"closeio-webhook.json", "closeio", "webhook", "Close webhook"}, // trailing comma, as in the seed
		{"pipedrive-commented.json", "pipedrive", "webhook", "Pipedrive commented"},
	}
	raw, _ := os.ReadFile(fixture("seeds/closeio-webhook.json"))
	if json.Valid(raw) || !bytes.Contains(raw, []byte("\"webhook\",\n  },")) {
		t.Fatal("the Close webhook fixture must keep the seed's trailing comma")
	}
	tokens := map[int64]string{}
	for i, f := range files {
		out := mustRun(t, db, "instances", "create", "-f", fixture("seeds/"+f.file))
		var in provider.InstanceJSON
		if err := json.Unmarshal([]byte(out), &in); err != nil {
			t.Fatalf("%s: create output is not JSON: %v\n%s", f.file, err, out)
		}
		if in.ID != int64(i+1) || in.Element.Key != f.key || in.Name != f.name || in.Configuration["event.vendor.type"] != f.vendorType {
			t.Errorf("%s: created %d %s %q %q", f.file, in.ID, in.Element.Key, in.Name, in.Configuration["event.vendor.type"])
		}
		if in.Token == "" || in.Token == model.Mask {
			t.Errorf("%s: create must show the token once, got %q", f.file, in.Token)
		}
		tokens[in.ID] = in.Token
		noSecrets(t, "create "+f.file, out)
		if f.key == "pipedrive" && f.file != "pipedrive-commented.json" && in.Configuration["pipedrive.email"] != "ops@example.com" {
			t.Errorf("%s: email %q", f.file, in.Configuration["pipedrive.email"])
		}
	}
	all := storedInstances(t, db)
	if len(all) != len(files) {
		t.Fatalf("%d stored, want %d", len(all), len(files))
	}
	if got := all[4].Configuration["pipedrive.api.token"]; got != "pd-api-TOKEN-abcdef" {
		t.Errorf("commented file: token %q", got)
	}
	if got := all[3].Configuration["username"]; got != "api_close_KEY_0123456789" {
		t.Errorf("Close webhook seed: username %q", got)
	}

	// From standard input.
	in, _ := os.ReadFile(fixture("seeds/closeio-polling.json"))
	r := run(t, db, string(in), "instances", "create", "-f", "-")
	if r.code != 0 || !strings.Contains(r.stdout, `"id": 6`) {
		t.Fatalf("create -f -: %d %s %s", r.code, r.stdout, r.stderr)
	}

	list := mustRun(t, db, "instances", "list")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ID\s+NAME\s+ELEMENT\s+EVENTS\s+CALLBACK$`),
		regexp.MustCompile(`(?m)^1\s+Pipedrive polling\s+pipedrive\s+polling\s+https://app.example.com/eventdesk/callback$`),
		regexp.MustCompile(`(?m)^2\s+Pipedrive webhook\s+pipedrive\s+webhook\s+https://app.example.com/eventdesk/callback$`),
		regexp.MustCompile(`(?m)^3\s+Close polling\s+closeio\s+polling\s+`),
		regexp.MustCompile(`(?m)^4\s+Close webhook\s+closeio\s+webhook\s+`),
		regexp.MustCompile(`(?m)^5\s+Pipedrive commented\s+pipedrive\s+off\s+-$`),
		regexp.MustCompile(`(?m)^6\s+Close polling\s+closeio\s+polling\s+`),
	} {
		if !want.MatchString(list) {
			t.Errorf("list lacks %s:\n%s", want, list)
		}
	}
	noSecrets(t, "list", list)

	// show: masked JSON, token included.
	for id, key := range map[string]string{"1": "pipedrive", "4": "closeio", "5": "pipedrive"} {
		out := mustRun(t, db, "instances", "show", id)
		var in provider.InstanceJSON
		if err := json.Unmarshal([]byte(out), &in); err != nil {
			t.Fatalf("show %s: %v\n%s", id, err, out)
		}
		if in.Element.Key != key || in.Token != model.Mask {
			t.Errorf("show %s: element %s token %q", id, in.Element.Key, in.Token)
		}
		for _, tok := range tokens {
			if strings.Contains(out, tok) {
				t.Errorf("show %s shows a token", id)
			}
		}
		noSecrets(t, "show "+id, out)
		for _, k := range []string{"pipedrive.password", "pipedrive.api.token", "username", "password"} {
			if v, ok := in.Configuration[k]; ok && v != model.Mask {
				t.Errorf("show %s: %s = %q, want masked", id, k, v)
			}
		}
	}
	if out := mustRun(t, db, "instances", "show", "1"); !strings.Contains(out, `"pipedrive.email": "ops@example.com"`) {
		t.Errorf("show 1 hides the email:\n%s", out)
	}
	// Flags after the arguments work too.
	if out := mustRun(t, "", "instances", "show", "1", "--db", db); !strings.Contains(out, `"id": 1`) {
		t.Errorf("show 1 --db: %s", out)
	}

	if out := mustRun(t, db, "instances", "delete", "2"); out != "deleted instance 2\n" {
		t.Errorf("delete: %q", out)
	}
	for _, args := range [][]string{{"instances", "show", "2"}, {"instances", "delete", "2"}, {"webhook-url", "2"}} {
		if r := run(t, db, "", args...); r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("%v after delete: %d %q", args, r.code, r.stderr)
		}
	}
	if list := mustRun(t, db, "instances", "list"); regexp.MustCompile(`(?m)^2\s`).MatchString(list) {
		t.Errorf("deleted instance still listed:\n%s", list)
	}
	for _, args := range [][]string{
		{"instances", "show", "abc"}, {"instances", "show"}, {"instances", "list", "extra"},
		{"instances", "frob"}, {"instances", "create"}, {"webhook-url", "0"}, {"webhook-url"},
	} {
		// Usage errors exit 2, as a bad flag does (they exited 1).
		if r := run(t, db, "", args...); r.code != 2 || !strings.Contains(r.stderr, "--help' for usage") {
			t.Errorf("%v: exit %d stderr %q, want 2 and a pointer to the help", args, r.code, r.stderr)
		}
	}
}

func TestCreateBadFilesStoreNothing(t *testing.T) {
	db := tempDB(t)
	dir := t.TempDir()
	noElement := filepath.Join(dir, "no-element.json")
	if err := os.WriteFile(noElement, []byte("// just a comment\n{\"configuration\": {\"username\": \"k\"},}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		want []string
	}{
		{fixture("bad/invalid-json.json"), []string{"invalid-json.json", "line 5, column 5"}},
		{fixture("bad/closeio-placeholders.json"), []string{"closeio-placeholders.json", "5 problems", "configuration.username", "<INSERT_CLOSE_IO_API_KEY>", "name", "<INSERT_INSTANCE_NAME>"}},
		{noElement, []string{"element.key", "closeio, pipedrive"}},
		{filepath.Join(dir, "missing.json"), []string{"read instance file", "missing.json"}},
	}
	for _, c := range cases {
		r := run(t, db, "", "instances", "create", "-f", c.file)
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", c.file, r.code, r.stdout)
		}
		if r.stdout != "" {
			t.Errorf("%s: stdout %q", c.file, r.stdout)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", c.file, r.stderr, w)
			}
		}
		noSecrets(t, "error for "+c.file, r.stderr)
	}
	if r := run(t, db, "{", "instances", "create", "-f", "-"); r.code != 1 || !strings.Contains(r.stderr, "line 1") {
		t.Errorf("bad stdin: %d %q", r.code, r.stderr)
	}
	// The file is checked before the database is opened: none was created.
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a bad file created the database: %v", err)
	}
	if r := run(t, db, "", "instances", "list"); r.code != 1 || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("bad files stored something: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestWebhookURL(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/closeio-webhook.json"))
	if out := mustRun(t, db, "webhook-url", "1"); out != "http://127.0.0.1:8470/elements/api-v2/events/pipedrive/MQ==\n" {
		t.Errorf("webhook-url 1: %q", out)
	}
	if out := mustRun(t, db, "webhook-url", "2"); out != "http://127.0.0.1:8470/elements/api-v2/events/closeio/Mg==\n" {
		t.Errorf("webhook-url 2: %q", out)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(t.Context(), store.SettingPublicURL, "https://hooks.example.com/eventdesk/"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out := mustRun(t, db, "webhook-url", "1"); out != "https://hooks.example.com/eventdesk/elements/api-v2/events/pipedrive/MQ==\n" {
		t.Errorf("webhook-url 1 with a public URL: %q", out)
	}
	if out := mustRun(t, db, "instances", "show", "1"); !strings.Contains(out, `"webhookUrl": "https://hooks.example.com/eventdesk/elements/api-v2/events/pipedrive/MQ=="`) {
		t.Errorf("show ignores the public URL:\n%s", out)
	}
}

var secretsOut = regexp.MustCompile(`^User secret:\s+(\S+)\nOrganization secret:\s+(\S+)\nHeader:\s+Authorization: User (\S+), Organization (\S+)\n$`)

func parseSecrets(t *testing.T, out string) store.Secrets {
	t.Helper()
	m := secretsOut.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("secrets output %q", out)
	}
	if m[1] != m[3] || m[2] != m[4] || m[1] == m[2] {
		t.Errorf("secrets output inconsistent: %q", out)
	}
	return store.Secrets{User: m[1], Organization: m[2]}
}

func TestSecretsStable(t *testing.T) {
	db := tempDB(t)
	first := parseSecrets(t, mustRun(t, db, "secrets"))
	second := parseSecrets(t, mustRun(t, db, "secrets"))
	if first != second {
		t.Errorf("secrets changed between runs: %v, %v", first, second)
	}
	if len(first.User) < 16 || len(first.Organization) < 16 {
		t.Errorf("secrets too short: %v", first)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if sec, _ := st.APISecrets(t.Context()); sec != first {
		t.Errorf("stored %v, printed %v", sec, first)
	}
	// Another database has other secrets.
	if other := parseSecrets(t, mustRun(t, tempDB(t), "secrets")); other == first {
		t.Error("two databases share secrets")
	}
}

func TestBackup(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-polling.json"))
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/closeio-polling.json"))
	dst := filepath.Join(t.TempDir(), "copy.db")
	out := mustRun(t, db, "backup", dst)
	if !regexp.MustCompile(`^wrote .*copy\.db \(\d+ bytes\)\n$`).MatchString(out) {
		t.Errorf("backup output %q", out)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", fi.Mode().Perm())
	}
	got := storedInstances(t, dst)
	want := storedInstances(t, db)
	if len(got) != 2 || got[0].Token != want[0].Token || got[1].Configuration["username"] != want[1].Configuration["username"] {
		t.Errorf("backup holds %d instances", len(got))
	}
	if r := run(t, db, "", "backup"); r.code != 2 {
		t.Errorf("backup without FILE: %d", r.code)
	}
	if r := run(t, db, "", "backup", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")); r.code != 1 || !strings.Contains(r.stderr, "backup") {
		t.Errorf("backup to a missing directory: %d %q", r.code, r.stderr)
	}
}

func TestVersionHelpUnknown(t *testing.T) {
	r := run(t, "", "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "eventdesk ") || len(strings.TrimSpace(r.stdout)) <= len("eventdesk") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
	for _, c := range commands() {
		for _, h := range []string{"--help", "-h"} {
			r := run(t, "", "", c.name, h)
			if r.code != 0 || strings.Count(r.stdout, "Usage: eventdesk "+c.name) != 1 || r.stderr != "" {
				t.Errorf("%s %s: exit %d stdout %q stderr %q; want the usage once, on stdout", c.name, h, r.code, r.stdout, r.stderr)
			}
		}
		r := run(t, "", "", "help", c.name)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: eventdesk "+c.name) {
			t.Errorf("help %s: exit %d %q", c.name, r.code, r.stdout)
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := run(t, "", "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || !strings.Contains(r.stdout, "webhook-url") {
			t.Errorf("%v: %d %q", args, r.code, r.stdout)
		}
	}
	r = run(t, "", "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) || !strings.Contains(r.stderr, "Commands:") {
		t.Errorf("unknown command: %d %q", r.code, r.stderr)
	}
	if r := run(t, "", ""); r.code != 2 || !strings.Contains(r.stderr, "Usage:") {
		t.Errorf("no arguments without a console: %d %q", r.code, r.stderr)
	}
	if r := run(t, "", "", "secrets", "--bogus"); r.code != 2 || !strings.Contains(r.stderr, "bogus") || strings.Count(r.stderr, "Usage: eventdesk secrets") != 1 {
		t.Errorf("unknown flag: %d %q", r.code, r.stderr)
	}
}

func TestDatabaseInUse(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := run(t, db, "", "instances", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "is in use by another eventdesk process") {
		t.Fatalf("list while held: exit %d stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, db) {
		t.Errorf("stderr %q does not name the file", r.stderr)
	}
	// A bad file is reported at once, without waiting for the lock.
	if r := run(t, db, "", "instances", "create", "-f", fixture("bad/closeio-placeholders.json")); r.code != 1 || !strings.Contains(r.stderr, "<INSERT_CLOSE_IO_API_KEY>") {
		t.Errorf("bad file while held: exit %d stderr %q", r.code, r.stderr)
	}
}

// Every mistake in the command line exits 2, whichever verb it names; a
// failure of the work itself exits 1.
func TestUsageErrorsExit2(t *testing.T) {
	db := tempDB(t)
	for _, args := range [][]string{
		{"version", "extra"}, {"secrets", "extra"}, {"serve", "extra"}, {"serve", "--retention", "7m"}, {"serve", "--lease", "1s"}, {"serve", "--lease", "soon"},
		{"serve", "--log-level", "loud"}, {"demo", "extra"}, {"demo", "--every", "0s"},
		{"instances"}, {"instances", "frob"}, {"instances", "show"}, {"instances", "show", "x"},
		{"instances", "create"}, {"webhook-url"}, {"webhook-url", "-1"}, {"webhook"},
		{"webhook", "register", "x"}, {"poll"}, {"poll", "x"}, {"notifications"},
		{"notifications", "list", "--state", "odd"}, {"notifications", "replay"},
		{"notifications", "replay", "--instance", "1", "--since", "yesterday"},
		{"backup"}, {"backup", "a", "b"}, {"frobnicate"}, {"--bogus"}, {"secrets", "--bogus"},
	} {
		r := run(t, db, "", args...)
		if r.code != 2 || r.stderr == "" || r.stdout != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q; want exit 2 with the mistake on stderr", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, db, "", "instances", "show", "99"); r.code != 1 {
		t.Errorf("instances show of a missing instance: exit %d, want 1 (not a usage error)", r.code)
	}
}

// The help list lines up whatever the longest command name; serve's help
// names what it runs; the default database path shows the fallback used
// without XDG_DATA_HOME.
func TestHelpText(t *testing.T) {
	r := run(t, "", "", "help")
	col := -1
	for _, c := range commands() {
		line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.name) + ` +` + regexp.QuoteMeta(c.summary) + `$`).FindString(r.stdout)
		if line == "" {
			t.Fatalf("help lists no line for %s:\n%s", c.name, r.stdout)
		}
		at := strings.Index(line, c.summary)
		if col == -1 {
			col = at
		}
		if at != col || at < len("  "+c.name+"  ") {
			t.Errorf("summary of %s starts at column %d, others at %d:\n%s", c.name, at, col, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "~/.local/share/eventdesk/eventdesk.db") {
		t.Errorf("help does not show the ~/.local/share fallback:\n%s", r.stdout)
	}
	s := run(t, "", "", "serve", "--help")
	for _, want := range []string{"scheduler", "dispatcher", "~/.local/share/eventdesk/eventdesk.db"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("serve --help does not mention %q:\n%s", want, s.stdout)
		}
	}
}

// In-process, standard input and output are no terminal: the console
// refuses before opening anything, and --help still works.
func TestConsoleNeedsTerminal(t *testing.T) {
	db := tempDB(t)
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Console: Console,
		Getenv: func(k string) string {
			if k == "EVENTDESK_DB" {
				return db
			}
			return ""
		}}
	if code := Run([]string{"--log-level", "debug"}, env); code != 1 || !strings.Contains(errb.String(), "the console needs a terminal; use `eventdesk serve`") {
		t.Errorf("console without a terminal: exit %d stderr %q", code, errb.String())
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the console opened the database before refusing")
	}
	// A mistake in the flags is still a usage error, terminal or not.
	errb.Reset()
	if code := Run([]string{"--log-level", "loud"}, env); code != 2 || !strings.Contains(errb.String(), "--log-level") {
		t.Errorf("console with a bad flag value: exit %d stderr %q", code, errb.String())
	}
	out.Reset()
	if code := Run([]string{"--help"}, env); code != 0 || !strings.Contains(out.String(), "Commands:") {
		t.Errorf("--help: exit %d %q", code, out.String())
	}
}
