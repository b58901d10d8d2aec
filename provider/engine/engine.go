// Package engine wires eventdesk's moving parts — store, HTTP listener, and
// later the poll scheduler and callback dispatcher — into one thing that
// starts and stops together, for `eventdesk serve` and for the console.
package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// DefaultListen is the listener's address unless configured.
const DefaultListen = "127.0.0.1:8470"

// Options configure an engine. Empty fields fall back to stored settings,
// then to defaults.
type Options struct {
	Listen     string
	PublicURL  string
	UserSecret string
	OrgSecret  string
	Logger     *slog.Logger
	// Retry overrides CE's callback retry policy (tests and demos shorten it).
	Retry model.RetryPolicy
	// Retention is how long events are kept; when set it is stored for next
	// time, when zero the stored setting or store.DefaultRetention applies.
	Retention time.Duration
	// TLSCert and TLSKey, both set, make the listener serve HTTPS with
	// this PEM certificate (chain) and key.
	TLSCert, TLSKey string
	// Version is the program's version, told to attached clients.
	Version string
	// MetricsListen, when set, serves /metrics, /health and /health/ready
	// without auth on a listener of their own (ops.go).
	MetricsListen string
	// Lease is how long a replica's hold on shared work (a delivery lane,
	// a poll) lasts without renewal, on a store replicas share: how long
	// a dead replica's work waits before another takes it (default
	// store.DefaultLease).
	Lease time.Duration
}

// Engine is a running eventdesk: store, listener and dispatcher.
type Engine struct {
	Store      Store
	Server     *provider.Server
	Dispatcher *dispatch.Dispatcher
	Scheduler  *poll.Scheduler
	Addr       string
	PublicURL  string
	Secrets    store.Secrets
	// Metrics and Ready are the engine's instrumentation (ops.go);
	// MetricsAddr is the --metrics-listen listener's address, if any.
	Metrics     *metrics.Metrics
	Ready       *metrics.Readiness
	MetricsAddr string

	log    *slog.Logger
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	once   sync.Once
	bg     sync.WaitGroup
	// tlsConf is set when the listener serves HTTPS.
	tlsConf *tls.Config
}

// loadTLS reads the certificate and key given to serve HTTPS; neither
// means plain HTTP, one alone is a mistake.
func loadTLS(opts Options) (*tls.Config, error) {
	if opts.TLSCert == "" && opts.TLSKey == "" {
		return nil, nil
	}
	if opts.TLSCert == "" || opts.TLSKey == "" {
		return nil, fmt.Errorf("HTTPS needs both --tls-cert FILE and --tls-key FILE (PEM)")
	}
	cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", opts.TLSCert, opts.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// UseDefault, given as the listen address or public URL, forgets the
// stored value: the default applies from then on.
const UseDefault = "default"

// checkPublicURL demands what webhook URLs are built from: an absolute
// http(s) URL with a host and nothing after the path.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q: use an absolute http(s) URL such as https://events.example.com (or %q to go back to http://LISTEN)", s, UseDefault)
	}
	return nil
}

// Settings resolves the listen address, public URL and API secrets from
// options, stored settings and defaults. Secrets given in options are stored
// at once, so `eventdesk secrets` prints what the server uses; the listen
// address and public URL are stored by Start once listening succeeded.
func Settings(ctx context.Context, st SettingStore, opts Options) (listen, publicURL string, sec store.Secrets, err error) {
	for _, kv := range []struct{ key, val string }{
		{store.SettingUserSecret, opts.UserSecret},
		{store.SettingOrgSecret, opts.OrgSecret},
	} {
		if kv.val != "" {
			if err := st.SetSetting(ctx, kv.key, kv.val); err != nil {
				return "", "", sec, err
			}
		}
	}
	for _, kv := range []struct{ key, val string }{
		{store.SettingListen, opts.Listen},
		{store.SettingPublicURL, opts.PublicURL},
	} {
		if kv.val == UseDefault {
			if err := st.SetSetting(ctx, kv.key, ""); err != nil {
				return "", "", sec, err
			}
		}
	}
	if opts.PublicURL != "" && opts.PublicURL != UseDefault {
		if err := checkPublicURL(opts.PublicURL); err != nil {
			return "", "", sec, err
		}
	}
	listen = opts.Listen
	if (listen == "" || listen == UseDefault) && !isShared(st) {
		if listen, _, err = st.Setting(ctx, store.SettingListen); err != nil {
			return "", "", sec, err
		}
	}
	if listen == "" {
		listen = DefaultListen
	}
	publicURL = strings.TrimSuffix(opts.PublicURL, "/")
	if publicURL == "" || publicURL == UseDefault {
		if publicURL, _, err = st.Setting(ctx, store.SettingPublicURL); err != nil {
			return "", "", sec, err
		}
	}
	if publicURL == "" {
		publicURL = "http://" + listen
	}
	sec, err = st.APISecrets(ctx)
	return listen, publicURL, sec, err
}

// Start opens the listener on the resolved address and serves until Stop.
// It owns st from here on and closes it on Stop; ctx bounds the start
// only (the engine runs until Stop).
func Start(ctx context.Context, st Store, opts Options) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listen, publicURL, sec, err := Settings(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	keep, err := retention(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	tlsConf, err := loadTLS(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (choose another with --listen)", listen, err)
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConf)
		if (opts.PublicURL == "" || opts.PublicURL == UseDefault) && publicURLIsDefault(ctx, st) {
			publicURL = "https://" + listen
		}
	}
	if err := remember(ctx, st, opts, listen); err != nil {
		ln.Close()
		return nil, err
	}
	if (opts.PublicURL == "" || opts.PublicURL == UseDefault) && publicURLIsDefault(ctx, st) {
		// With port 0 the real port is known only now.
		publicURL = scheme + "://" + ln.Addr().String()
	}
	m := metrics.New(metrics.Options{Store: st})
	dopts := dispatch.Options{Policy: opts.Retry, Logger: log.With("component", "dispatcher"), Observer: m}
	if lanes, ok := st.(dispatch.Lanes); ok && isShared(st) {
		dopts.Shared, dopts.Owner, dopts.Lease = lanes, replicaName(ln.Addr()), opts.Lease
		log.Info("replica on a shared store: delivery lanes and polls are leased", "replica", dopts.Owner, "lease", cmp.Or(opts.Lease, store.DefaultLease))
	}
	disp := dispatch.Start(st, dopts)
	sopts := poll.SchedulerOptions{}
	if leases, ok := st.(poll.Leases); ok && isShared(st) {
		sopts.Shared, sopts.Owner, sopts.Lease = leases, dopts.Owner, opts.Lease
	}
	sched := poll.StartSchedulerWith(st, poll.New(st, poll.Options{Logger: log.With("component", "poller"), Observer: m}), sopts)
	m.WatchCircuits(disp)
	ready := readiness(st, disp, sched)
	srv := provider.New(st, provider.Config{PublicURL: publicURL, Secrets: sec, Logger: log, Replayer: disp, Poller: sched, Lanes: disp, Addr: ln.Addr().String(), Version: opts.Version,
		Webhooks: m, Metrics: m.Handler(), MetricsOpen: loopbackOnly(ln.Addr()), Ready: ready})
	// The engine outlives the start's context: it runs until Stop.
	run, cancel := context.WithCancel(context.Background())
	e := &Engine{Store: st, Server: srv, Dispatcher: disp, Scheduler: sched, Addr: ln.Addr().String(), PublicURL: publicURL, Secrets: sec,
		Metrics: m, Ready: ready, log: log, ln: ln, cancel: cancel, done: make(chan struct{}), tlsConf: tlsConf}
	if err := e.serveMetrics(run, opts.MetricsListen); err != nil {
		cancel()
		ln.Close()
		sched.Stop()
		disp.Stop()
		return nil, err
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		e.retain(run, keep)
	}()
	go func() {
		defer close(e.done)
		err := srv.Serve(run, ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.err = err
			log.Error("listener stopped", "err", err)
		}
	}()
	if err := e.writeRuntime(); err != nil {
		// Only a hot backup from another command needs it.
		log.Warn("cannot write the engine file; `eventdesk backup` will not reach this engine", "path", RuntimePath(st.Path()), "err", err)
	}
	log.Info("listening", "addr", e.Addr, "publicURL", publicURL, "db", st.Path(), "retention", keep)
	return e, nil
}

// sharedStore is a store several engines use at once (replicas on one
// PostgreSQL database).
type sharedStore interface{ Shared() bool }

// replicaName names this process among the replicas of a shared store:
// host, process and listen port, and a random suffix so a restarted
// process never passes for its predecessor.
func replicaName(addr net.Addr) string {
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(addr.String())
	return fmt.Sprintf("%s:%s/%d/%08x", host, port, os.Getpid(), rand.Uint32())
}

// processName names a process without a listener (a command) that takes
// a lease.
func processName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:cli/%d/%08x", host, os.Getpid(), rand.Uint32())
}

// isShared reports whether st is shared by replicas. Their settings are
// shared too, except the listen address: each replica listens on its own,
// so it is neither stored nor read there; the public URL, the load
// balancer's, is the same for all.
func isShared(st SettingStore) bool {
	s, ok := st.(sharedStore)
	return ok && s.Shared()
}

// remember stores the listen address and public URL given as options, once
// listening worked; an ephemeral port (":0") is not worth remembering.
func remember(ctx context.Context, st SettingStore, opts Options, listen string) error {
	if opts.Listen != "" && opts.Listen != UseDefault && !isShared(st) {
		if _, port, err := net.SplitHostPort(listen); err == nil && port != "0" {
			if err := st.SetSetting(ctx, store.SettingListen, listen); err != nil {
				return err
			}
		}
	}
	if opts.PublicURL != "" && opts.PublicURL != UseDefault {
		return st.SetSetting(ctx, store.SettingPublicURL, strings.TrimSuffix(opts.PublicURL, "/"))
	}
	return nil
}

func publicURLIsDefault(ctx context.Context, st SettingStore) bool {
	v, _, _ := st.Setting(ctx, store.SettingPublicURL)
	return v == ""
}

// retention resolves how long events are kept: the option (then stored),
// else the stored setting, else the default.
func retention(ctx context.Context, st SettingStore, opts Options) (time.Duration, error) {
	if opts.Retention > 0 {
		return opts.Retention, st.SetSetting(ctx, store.SettingRetention, opts.Retention.String())
	}
	v, ok, err := st.Setting(ctx, store.SettingRetention)
	if err != nil || !ok {
		return store.DefaultRetention, err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("stored retention %q is not a duration; set it again with --retention", v)
	}
	return d, nil
}

// retain prunes old events shortly after start and then hourly, in small
// transactions, so history never grows without bound.
func (e *Engine) retain(ctx context.Context, keep time.Duration) {
	if keep <= 0 {
		keep = store.DefaultRetention
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, ran, err := pruneOnce(ctx, e.Store, time.Now().Add(-keep))
		if ctx.Err() != nil {
			return // stopping: the rest is pruned next time
		}
		switch {
		case !ran:
			e.log.Debug("retention left to the replica running it now")
		case err != nil:
			e.log.Warn("retention failed", "err", err)
		default:
			e.Metrics.Pruned(res)
			if res.Events+res.Notifications+res.DedupeKeys > 0 {
				e.log.Info("retention pruned", "events", res.Events, "notifications", res.Notifications, "dedupeKeys", res.DedupeKeys)
			}
		}
		t.Reset(time.Hour)
	}
}

// onceRunner runs work that one process at a time may do on a store
// several share (the PostgreSQL store, with an advisory lock).
type onceRunner interface {
	TryOnce(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error)
}

// pruneOnce prunes what retention no longer keeps. On a store replicas
// share, one replica prunes at a time: ran is false when another one is
// pruning now (it deletes the same rows; a second pass would only wait on
// its locks).
func pruneOnce(ctx context.Context, st Store, cutoff time.Time) (res store.PruneResult, ran bool, err error) {
	o, ok := st.(onceRunner)
	if !ok {
		res, err = st.Prune(ctx, cutoff)
		return res, true, err
	}
	ran, err = o.TryOnce(ctx, "eventdesk retention", func(ctx context.Context) error {
		var perr error
		res, perr = st.Prune(ctx, cutoff)
		return perr
	})
	return res, ran, err
}

// Done is closed when the listener has stopped.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Stop shuts the listener down gracefully and closes the store.
func (e *Engine) Stop() error {
	e.once.Do(func() {
		e.removeRuntime()
		e.cancel()
		<-e.done
		e.bg.Wait()
		e.Scheduler.Stop()
		e.Dispatcher.Stop()
		if err := e.Store.Close(); err != nil && e.err == nil {
			e.err = err
		}
	})
	return e.err
}
