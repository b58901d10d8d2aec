package cli

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// --store and --db name one store, from the command line before the
// environment, and two different stores are refused.
func TestStoreFlagLocation(t *testing.T) {
	const pg = "postgres://ed:s3cretpw@db.example:5432/ed"
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr string // part of the usage error; "" for none
	}{
		{name: "nothing", want: ""},
		{name: "db", args: []string{"--db", "a.db"}, want: "a.db"},
		{name: "store path", args: []string{"--store", "a.db"}, want: "a.db"},
		{name: "store url", args: []string{"--store", pg}, want: pg},
		{name: "postgresql scheme", args: []string{"--store", "postgresql://h/ed"}, want: "postgresql://h/ed"},
		{name: "both the same", args: []string{"--db", "a.db", "--store", "a.db"}, want: "a.db"},
		{name: "both different", args: []string{"--db", "a.db", "--store", "b.db"}, wantErr: "--store b.db and --db a.db name different stores"},
		{name: "db and url", args: []string{"--db", "a.db", "--store", pg}, wantErr: "name different stores"},
		{name: "db given a url", args: []string{"--db", pg}, wantErr: "--db takes a database file"},
		{name: "env store", env: map[string]string{"EVENTDESK_STORE": pg}, want: pg},
		{name: "env db", env: map[string]string{"EVENTDESK_DB": "e.db"}, want: "e.db"},
		{name: "env both same", env: map[string]string{"EVENTDESK_DB": "e.db", "EVENTDESK_STORE": "e.db"}, want: "e.db"},
		{name: "env both different", env: map[string]string{"EVENTDESK_DB": "e.db", "EVENTDESK_STORE": pg}, wantErr: "EVENTDESK_STORE postgres://ed:***@db.example:5432/ed and EVENTDESK_DB e.db name different stores"},
		{name: "env db a url", env: map[string]string{"EVENTDESK_DB": pg}, wantErr: "EVENTDESK_DB takes a database file"},
		{name: "flag wins over env", args: []string{"--store", "f.db"}, env: map[string]string{"EVENTDESK_DB": "e.db", "EVENTDESK_STORE": pg}, want: "f.db"},
		{name: "db flag wins over env store", args: []string{"--db", "f.db"}, env: map[string]string{"EVENTDESK_STORE": pg}, want: "f.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string { return tc.env[k] }}
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			sf := addStoreFlags(fs, "serve", env)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := sf.location()
			if tc.wantErr != "" {
				ue, ok := err.(*usageError)
				if !ok || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("location() = %q, %v; want a usage error containing %q", got, err, tc.wantErr)
				}
				if strings.Contains(ue.Error(), "s3cretpw") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("location() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// Every command that opens the data takes --store, and a conflict exits 2
// with the message before anything is opened or started.
func TestStoreFlagOnEveryCommand(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	for _, args := range [][]string{
		{"serve"}, {}, {"demo", "--serve"}, {"instances", "list"}, {"webhook-url", "1"}, {"webhook", "register", "1"},
		{"poll", "1"}, {"notifications", "list"}, {"secrets"}, {"backup", filepath.Join(dir, "x.db")}, {"events", "list"},
	} {
		full := append(append([]string{}, args...), "--db", a, "--store", b)
		r := runConsole(t, full...)
		if r.code != 2 || !strings.Contains(r.stderr, "name different stores") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the conflict named", full, r.code, r.stderr)
		}
		help := runConsole(t, append(append([]string{}, args...), "--help")...)
		if !strings.Contains(help.stdout, "-store") {
			t.Errorf("%v --help does not list --store:\n%s", args, help.stdout)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
		t.Errorf("a refused command left files behind: %v", m)
	}
}

// runConsole is runEnv with no environment and the console as Run's.
func runConsole(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }, Console: Console}
	code := Run(args, env)
	return result{code, out.String(), errb.String()}
}

// The demo seeds a throwaway bbolt file: a PostgreSQL store is refused,
// and EVENTDESK_STORE is not the demo's.
func TestDemoRefusesPostgres(t *testing.T) {
	r := runEnv(t, nil, "demo", "--serve", "--store", "postgres://ed:s3cretpw@127.0.0.1:1/ed")
	if r.code != 2 || !strings.Contains(r.stderr, "demo does not run on PostgreSQL") || !strings.Contains(r.stderr, "throwaway bbolt file") {
		t.Fatalf("demo --store postgres://…: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "s3cretpw") {
		t.Errorf("the refusal shows the password: %q", r.stderr)
	}
}

// backup on PostgreSQL prints the pg_dump command, password masked, and
// succeeds without connecting.
func TestBackupOnPostgresPrintsPgDump(t *testing.T) {
	r := runEnv(t, map[string]string{"EVENTDESK_STORE": "postgres://ed:s3cretpw@db.example:5432/ed"}, "backup", "/var/backups/ed.dump")
	want := "pg_dump -Fc -f /var/backups/ed.dump 'postgres://ed:***@db.example:5432/ed'"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("backup: exit %d\nstdout %s\nstderr %s\nwant %q", r.code, r.stdout, r.stderr, want)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cretpw") {
		t.Errorf("backup shows the password:\n%s%s", r.stdout, r.stderr)
	}
}
