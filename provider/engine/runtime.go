package engine

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
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
// wrapping fs.ErrNotExist means no engine announced itself.
func ReadRuntime(dbPath string) (Runtime, error) {
	var rt Runtime
	b, err := os.ReadFile(RuntimePath(dbPath))
	if err != nil {
		return rt, err
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return rt, fmt.Errorf("%s: %w", RuntimePath(dbPath), err)
	}
	return rt, nil
}

// writeRuntime announces the engine; the URL is the listener's own address,
// with a wildcard host made loopback, because local commands use it.
func (e *Engine) writeRuntime() error {
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
	path := RuntimePath(e.Store.Path())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// removeRuntime withdraws the announcement, unless another process has
// replaced it since.
func (e *Engine) removeRuntime() {
	if rt, err := ReadRuntime(e.Store.Path()); err == nil && rt.PID == os.Getpid() {
		_ = os.Remove(RuntimePath(e.Store.Path()))
	}
}
