package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// Runtime is what a running engine leaves next to its database so that
// other eventdesk commands, which cannot open the locked file, can reach it
// (a hot backup). It holds the API secrets, so it is written 0600 in the
// database's own directory: whoever can read it can read the database.
type Runtime struct {
	PID          int    `json:"pid"`
	URL          string `json:"url"`
	User         string `json:"user"`
	Organization string `json:"organization"`
	// Cert is the HTTPS listener's certificate (DER, base64 in JSON):
	// a local client pins it, since a certificate for a public name does
	// not match the loopback address the client dials.
	Cert []byte `json:"cert,omitempty"`
}

// RuntimePath is where the engine of the database at dbPath describes itself.
func RuntimePath(dbPath string) string { return dbPath + ".engine" }

// ReadRuntime reads the description the engine of dbPath left; an error
// wrapping fs.ErrNotExist means no engine announced itself. The file must
// belong to the owner of the database and be writable by no one else:
// otherwise another user could have put it there, to have the API secrets
// of this machine's commands sent to an address of theirs.
func ReadRuntime(dbPath string) (Runtime, error) {
	var rt Runtime
	path := RuntimePath(dbPath)
	b, err := os.ReadFile(path)
	if err != nil {
		return rt, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return rt, err
	}
	if fi.Mode().Perm()&0o022 != 0 || !fi.Mode().IsRegular() {
		return rt, fmt.Errorf("%s is writable by other users (mode %s) or not a regular file; not trusting it (remove it; a running engine writes it again on its next start)", path, fi.Mode())
	}
	if db, err := os.Stat(dbPath); err == nil && owner(db) != owner(fi) {
		return rt, fmt.Errorf("%s belongs to uid %d, the database to uid %d; not trusting it (remove it)", path, owner(fi), owner(db))
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return rt, fmt.Errorf("%s: %w", RuntimePath(dbPath), err)
	}
	return rt, nil
}

// serverStore is a store kept by a database server (PostgreSQL), which
// names itself by URL: there is no database file to announce an engine
// next to, and commands on it open the database themselves.
type serverStore interface{ URL() string }

// onFile reports whether st keeps its data in a local file.
func onFile(st Store) bool {
	_, ok := st.(serverStore)
	return !ok
}

// writeRuntime announces the engine; the URL is the listener's own address,
// with a wildcard host made loopback, because local commands use it. An
// engine on a database server announces nothing.
func (e *Engine) writeRuntime() error {
	if !onFile(e.Store) {
		return nil
	}
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	rt := Runtime{PID: os.Getpid(), URL: "http://" + net.JoinHostPort(host, port), User: e.Secrets.User, Organization: e.Secrets.Organization}
	if e.tlsConf != nil {
		rt.URL = "https://" + net.JoinHostPort(host, port)
		if c := e.tlsConf.Certificates[0].Certificate; len(c) > 0 {
			rt.Cert = c[0]
		}
	}
	b, err := json.Marshal(rt)
	if err != nil {
		return err
	}
	return writePrivateFile(RuntimePath(e.Store.Path()), b)
}

// writePrivateFile replaces path with data, readable by this user only. The
// data goes to a temporary file created exclusively (a new name, never an
// existing file that keeps its owner and mode), 0600, in the same
// directory, which is then renamed over path. A directory other users may
// write to is refused unless it has the sticky bit (then they cannot
// rename or remove this user's files) and path, if there, is this user's.
func writePrivateFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := checkPrivateDir(dir, path); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // O_EXCL, mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// checkPrivateDir refuses a directory where another user could replace or
// read what is written at path.
func checkPrivateDir(dir, path string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	uid := os.Geteuid()
	if o := owner(fi); o != uid && o != 0 {
		return fmt.Errorf("directory %s belongs to uid %d, not to this user (uid %d): its owner could replace %s; keep the database in a directory of your own", dir, o, uid, filepath.Base(path))
	}
	if fi.Mode().Perm()&0o022 == 0 {
		return nil
	}
	if fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("directory %s is writable by other users (mode %s) without the sticky bit: they could replace %s, which holds the API secrets; run chmod go-w %s, or keep the database in a private directory", dir, fi.Mode(), filepath.Base(path), dir)
	}
	// Sticky: others cannot rename or remove this user's files, but may
	// hold the name already.
	if pf, err := os.Lstat(path); err == nil && owner(pf) != uid {
		return fmt.Errorf("%s in the shared directory %s belongs to uid %d, not to this user; remove it, or keep the database in a private directory", path, dir, owner(pf))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// owner is the uid that owns fi's file (-1 where the system does not say).
func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// removeRuntime withdraws the announcement, unless another process has
// replaced it since.
func (e *Engine) removeRuntime() {
	if !onFile(e.Store) {
		return
	}
	if rt, err := ReadRuntime(e.Store.Path()); err == nil && rt.PID == os.Getpid() {
		_ = os.Remove(RuntimePath(e.Store.Path()))
	}
}
