package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// engineFlags are the flags of every verb that works on eventdesk's data:
// which database, or which running engine to attach to.
type engineFlags struct {
	cmd      string // the verb, for usage errors
	store    *storeFlags
	server   *string
	secrets  *apiSecretFlags
	insecure *bool
	context  *string
	verbose  *bool
}

// addEngineFlags registers --store, --db, --server, --user-secret, --org-secret,
// --insecure, --context and --verbose, with their environment defaults.
func addEngineFlags(fs *flag.FlagSet, env Env) *engineFlags {
	return &engineFlags{
		cmd:      fs.Name(),
		store:    addStoreFlags(fs, fs.Name(), env),
		server:   fs.String("server", env.Getenv("EVENTDESK_SERVER"), "attach to the eventdesk API at this URL instead of a local database (env EVENTDESK_SERVER)"),
		secrets:  attachSecretFlags(fs, env.Getenv),
		insecure: fs.Bool("insecure", false, "allow sending the API secrets over plain http to a host that is not this machine"),
		context:  fs.String("context", env.Getenv("EVENTDESK_CONTEXT"), "attach to the engine of this named context (see eventdesk context; env EVENTDESK_CONTEXT)"),
		verbose:  fs.Bool("verbose", false, "say on stderr which engine the command works with"),
	}
}

// access says whether a verb may create a database: a read-only verb on a
// mistyped --db must say so, not leave an empty database behind.
type access int

const (
	readOnly access = iota
	readWrite
)

// open reaches the engine: the remote one named by --server or a context;
// else the running eventdesk that holds the database, over loopback; else
// the database file itself, in this process.
func (f *engineFlags) open(env Env, acc access) (backend.Backend, error) {
	if b, ok, err := f.openRemote(env); ok || err != nil {
		return b, err
	}
	path, err := f.store.resolved()
	if err != nil {
		return nil, err
	}
	if engine.IsDatabaseURL(path) {
		// A database server is shared: the command works on it directly,
		// beside any engines running on it, whose changes it sees.
		st, err := engine.OpenStore(context.Background(), path)
		if err != nil {
			return nil, err
		}
		if *f.verbose {
			fmt.Fprintf(env.Stderr, "eventdesk: working on %s directly\n", st.Path())
		}
		return engine.NewLocal(st, engine.LocalOptions{CloseStore: true}), nil
	}
	if b, err := attachLocal(path); b != nil || err != nil {
		if err == nil {
			f.note(env, b)
		}
		return b, err
	}
	if acc == readOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (check --store, --db, EVENTDESK_STORE or EVENTDESK_DB; serve or the console create one)", path)
		}
	}
	st, err := engine.OpenStore(context.Background(), path)
	var locked *store.LockedError
	if errors.As(err, &locked) {
		// It may have started meanwhile; otherwise say who holds it.
		if b, aerr := attachLocal(path); b != nil || aerr != nil {
			if aerr == nil {
				f.note(env, b)
			}
			return b, aerr
		}
		return nil, lockedBy(path, err)
	}
	if err != nil {
		return nil, err
	}
	if *f.verbose {
		fmt.Fprintf(env.Stderr, "eventdesk: working on %s directly (no engine holds it)\n", path)
	}
	return engine.NewLocal(st, engine.LocalOptions{CloseStore: true}), nil
}

// note says on stderr, with --verbose only, which engine answers.
func (f *engineFlags) note(env Env, b backend.Backend) {
	if !*f.verbose {
		return
	}
	if info, err := b.Info(context.Background()); err == nil {
		fmt.Fprintf(env.Stderr, "eventdesk: %s\n", info.Attached)
	}
}

// openRemote attaches to --server (or the named or current context); ok
// is false when neither says to.
func (f *engineFlags) openRemote(env Env) (backend.Backend, bool, error) {
	fUser, fOrg, err := f.secrets.resolve(f.cmd)
	if err != nil {
		return nil, true, err
	}
	server, user, org, insecure := *f.server, fUser, fOrg, *f.insecure
	if server == "" {
		if *f.context == "" {
			// An explicit store wins over the current context.
			if loc, err := f.store.location(); err != nil || loc != "" {
				return nil, err != nil, err
			}
		}
		c, ok, err := resolveContext(*f.context, env)
		if err != nil || !ok {
			return nil, false, err
		}
		server, user, org, insecure = c.Server, c.UserSecret, c.OrgSecret, c.Insecure
		if fUser != "" {
			user = fUser
		}
		if fOrg != "" {
			org = fOrg
		}
	}
	b, err := backend.NewRemote(backend.RemoteOptions{URL: server, User: user, Organization: org, Insecure: insecure})
	if err != nil {
		return nil, true, err
	}
	if _, err := b.Info(context.Background()); err != nil {
		return nil, true, err
	}
	f.note(env, b)
	return b, true, nil
}

// attachLocal reaches the eventdesk that holds the database at path,
// through the .engine file it keeps beside it. A file left by a crashed
// engine (its pid gone, or nobody answering /health at its address) is
// ignored: the API secrets go only to a live engine. It returns nil, nil
// when no engine runs.
func attachLocal(path string) (backend.Backend, error) {
	b, _, err := discover(path)
	return b, err
}

// lockedBy explains a locked database that no live engine announced.
func lockedBy(path string, locked error) error {
	_, why, err := discover(path)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w; %s, so stop the other process and try again", locked, why)
}

// discover is attachLocal, saying why it found no engine.
func discover(path string) (backend.Backend, string, error) {
	rt, err := engine.ReadRuntime(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no running engine announced itself in " + engine.RuntimePath(path), nil
	}
	if err != nil {
		return nil, "", err
	}
	if rt.PID <= 0 || syscall.Kill(rt.PID, 0) == syscall.ESRCH {
		return nil, fmt.Sprintf("%s names process %d, which is gone", engine.RuntimePath(path), rt.PID), nil
	}
	if !healthy(rt) {
		return nil, fmt.Sprintf("%s names process %d, whose listener at %s does not answer", engine.RuntimePath(path), rt.PID, rt.URL), nil
	}
	b, err := backend.NewRemote(backend.RemoteOptions{URL: rt.URL, User: rt.User, Organization: rt.Organization, PinnedCert: rt.Cert, Local: true})
	return b, "", err
}

// openStore opens the store at location (default: the standard database
// file) for a command that runs the engine itself.
func openStore(ctx context.Context, location string) (engine.Store, error) {
	if location == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		location = p
	}
	return engine.OpenStore(ctx, location)
}

// healthy reports whether a listener answers /health over HTTP where the
// .engine file says (with its pinned certificate over HTTPS).
func healthy(rt engine.Runtime) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt.URL+"/health", nil)
	if err != nil {
		return false
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(rt.Cert) > 0 {
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, rt.Cert) {
				return errors.New("another certificate than the .engine file names")
			}
			return nil
		}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, Proxy: nil}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	// Any HTTP answer will do (a busy engine may refuse with 429): the
	// pid check already said the announcing process is alive.
	return true
}
