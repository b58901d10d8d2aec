package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The API secrets can come from files (not visible in ps): the first line,
// without its line ending; a flag or environment variable beside the file
// is a usage error, and an empty or missing file is refused, never replaced
// by a generated secret.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	userFile := write("user", "u-from-file\n")
	orgFile := write("org", "  o-from-file  \r\nsecond line ignored\n")
	empty := write("empty", "\nsecret on line two\n")
	resolve := func(args []string, envv map[string]string) (string, string, string, error) {
		var errb bytes.Buffer
		env := Env{Stderr: &errb, Getenv: func(k string) string { return envv[k] }}
		fs := flags("serve", "", "", env)
		sf := secretFlags(fs, env)
		if _, err := parse(fs, args, env); err != nil {
			t.Fatal(err)
		}
		u, o, err := sf.resolve("serve")
		return u, o, errb.String(), err
	}

	u, o, _, err := resolve([]string{"--user-secret-file", userFile, "--org-secret-file", orgFile}, nil)
	if err != nil || u != "u-from-file" || o != "o-from-file" {
		t.Errorf("from files: %q %q %v", u, o, err)
	}
	u, o, _, err = resolve(nil, map[string]string{"EVENTDESK_USER_SECRET_FILE": userFile, "EVENTDESK_ORG_SECRET": "o-env"})
	if err != nil || u != "u-from-file" || o != "o-env" {
		t.Errorf("file from the environment: %q %q %v", u, o, err)
	}
	u, o, _, err = resolve([]string{"--user-secret", "u-flag"}, nil)
	if err != nil || u != "u-flag" || o != "" {
		t.Errorf("flags as before: %q %q %v", u, o, err)
	}
	_, _, _, err = resolve([]string{"--user-secret-file", userFile}, map[string]string{"EVENTDESK_USER_SECRET": "u-env"})
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--user-secret (or its environment variable) and --user-secret-file are both given") {
		t.Errorf("both given: %v", err)
	}
	if _, _, _, err = resolve([]string{"--org-secret-file", empty}, nil); err == nil || !strings.Contains(err.Error(), "first line is empty") {
		t.Errorf("empty first line: %v", err)
	}
	if _, _, _, err = resolve([]string{"--org-secret-file", filepath.Join(dir, "missing")}, nil); err == nil || !strings.Contains(err.Error(), "--org-secret-file") {
		t.Errorf("missing file: %v", err)
	}
}

// serve and the console offer the file flags, and refuse to start on a bad
// one before they open anything.
func TestServeSecretFileFlags(t *testing.T) {
	db := tempDB(t)
	r := run(t, db, "", "serve", "--help")
	if !strings.Contains(r.stdout, "-user-secret-file") || !strings.Contains(r.stdout, "-org-secret-file") {
		t.Errorf("serve --help lacks the file flags:\n%s", r.stdout)
	}
	var errb bytes.Buffer
	env := Env{Stdout: &errb, Stderr: &errb, Getenv: func(k string) string {
		if k == "EVENTDESK_DB" {
			return db
		}
		return ""
	}}
	var ue *usageError
	if err := Console([]string{"--user-secret", "x", "--user-secret-file", "/nonexistent"}, env); !errors.As(err, &ue) || !strings.Contains(err.Error(), "both given") {
		t.Errorf("console with both: %v", err)
	}
	r = run(t, db, "", "serve", "--listen", "127.0.0.1:0", "--user-secret", "x", "--user-secret-file", "/nonexistent")
	if r.code != 2 || !strings.Contains(r.stderr, "both given") {
		t.Errorf("serve with both: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, db, "", "serve", "--listen", "127.0.0.1:0", "--org-secret-file", filepath.Join(t.TempDir(), "missing"))
	if r.code != 1 || !strings.Contains(r.stderr, "--org-secret-file") {
		t.Errorf("serve with a missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve created the database before refusing its flags: %v", err)
	}
}
