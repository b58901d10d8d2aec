package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/store"
)

// A leftover temporary file or engine file (another user's, or an old 0644
// one) cannot make the engine file readable by others: the data goes
// through a new file created exclusively, 0600, renamed into place.
func TestWritePrivateFileIgnoresLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eventdesk.db.engine")
	// What the engine used to write through, and an old announcement.
	if err := os.WriteFile(path+".tmp", []byte("planted"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte(`{"user":"u"}`)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("engine file mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != `{"user":"u"}` {
		t.Errorf("engine file holds %q", b)
	}
	if b, _ := os.ReadFile(path + ".tmp"); string(b) != "planted" {
		t.Errorf("the planted file was written through: %q", b)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".eventdesk.db.engine.*.tmp"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A directory other users may write to is refused without the sticky bit;
// with it, a file another user already holds at the name is refused.
func TestWritePrivateFileRefusesSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eventdesk.db.engine")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	err := writePrivateFile(path, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "writable by other users") || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("world-writable directory: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("engine file written in a shared directory: %v", err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte("x")); err != nil {
		t.Fatalf("sticky directory, name free: %v", err)
	}
	if os.Geteuid() != 0 {
		return // giving a file to another user takes root
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte("y")); err == nil || !strings.Contains(err.Error(), "belongs to uid 4242") {
		t.Errorf("sticky directory, name held by another user: %v", err)
	}
}

// An engine file others may write to, or one of another owner than the
// database's, is not trusted: it could send the API secrets elsewhere.
func TestReadRuntimeRefusesUntrustedFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "eventdesk.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rt := `{"pid":1,"url":"http://127.0.0.1:1","user":"u","organization":"o"}`
	if err := os.WriteFile(RuntimePath(db), []byte(rt), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRuntime(db); err != nil || got.User != "u" {
		t.Fatalf("a private engine file: %+v, %v", got, err)
	}
	if err := os.Chmod(RuntimePath(db), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRuntime(db); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("a world-writable engine file: %v", err)
	}
	if os.Geteuid() != 0 {
		return
	}
	if err := os.Chmod(RuntimePath(db), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(RuntimePath(db), 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRuntime(db); err == nil || !strings.Contains(err.Error(), "belongs to uid 4242") {
		t.Errorf("an engine file of another owner: %v", err)
	}
}

// The engine itself announces through a private file: a leftover 0644
// "DB.engine.tmp" (the name it once wrote through) changes nothing.
func TestEngineFileIsPrivateDespiteLeftover(t *testing.T) {
	db := filepath.Join(t.TempDir(), "eventdesk.db")
	if err := os.WriteFile(RuntimePath(db)+".tmp", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Start(t.Context(), st, Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	fi, err := os.Stat(RuntimePath(db))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("engine file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	rt, err := ReadRuntime(db)
	if err != nil || rt.User != e.Secrets.User || rt.PID != os.Getpid() {
		t.Errorf("ReadRuntime = %+v, %v", rt, err)
	}
}
