package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eventdesk/eventdesk/provider/engine"
)

func runServe(args []string, env Env) error {
	fs := flags("serve", "[flags]", "Run the engine without a screen: the HTTP listener (API and webhook receiver),\nthe poll scheduler (polls every polling instance on its schedule) and the\ncallback dispatcher (sends notifications to the instances' callback URLs).\nLogs go to stderr. SIGINT, SIGTERM or SIGHUP stops it gracefully.", env)
	sf := addStoreFlags(fs, "serve", env)
	listen := fs.String("listen", env.Getenv("EVENTDESK_LISTEN"), "listen address (default "+engine.DefaultListen+"; stored for next time, \"default\" forgets it; env EVENTDESK_LISTEN)")
	public := fs.String("public-url", env.Getenv("EVENTDESK_PUBLIC_URL"), "URL vendors reach the listener at (default http://LISTEN; stored for next time, \"default\" forgets it; env EVENTDESK_PUBLIC_URL)")
	secrets := secretFlags(fs, env)
	metricsListen := fs.String("metrics-listen", env.Getenv("EVENTDESK_METRICS_LISTEN"), "serve /metrics, /health and /health/ready without auth on this address too, e.g. 10.0.0.5:9470 (default: only /metrics on the main listener, open when it is loopback, else behind the API secrets; env EVENTDESK_METRICS_LISTEN)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	retention := retentionFlag(fs, env)
	tlsCert := fs.String("tls-cert", env.Getenv("EVENTDESK_TLS_CERT"), "serve HTTPS with this PEM certificate (chain); needs --tls-key (env EVENTDESK_TLS_CERT)")
	tlsKey := fs.String("tls-key", env.Getenv("EVENTDESK_TLS_KEY"), "the PEM private key of --tls-cert (env EVENTDESK_TLS_KEY)")
	lease := fs.String("lease", env.Getenv("EVENTDESK_LEASE"), "on a PostgreSQL store: how long a replica's hold on a delivery lane or a poll lasts unrenewed, so how long a killed replica's work waits before another takes it, 5s to 10m (default 30s; env EVENTDESK_LEASE)")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve", "serve takes no arguments, got %q", strings.Join(pos, " "))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("serve", "--log-level %q: use debug, info, warn or error", *level)
	}
	keep, err := parseRetention(*retention)
	if err != nil {
		return usagef("serve", "%v", err)
	}
	leaseFor, err := parseLease(*lease)
	if err != nil {
		return usagef("serve", "%v", err)
	}
	user, org, err := secrets.resolve("serve")
	if err != nil {
		return err
	}
	location, err := sf.location()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lv}))
	// Signals are caught before the engine starts: one arriving while it
	// starts (after .engine is written) must stop it gracefully too.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	st, err := openStore(ctx, location)
	if err != nil {
		return err
	}
	e, err := engine.Start(ctx, st, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: user, OrgSecret: org, Logger: log, Retention: keep, TLSCert: *tlsCert, TLSKey: *tlsKey, Version: versionString(), MetricsListen: *metricsListen, Lease: leaseFor})
	if err != nil {
		st.Close()
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case <-e.Done():
	}
	return e.Stop()
}

// stopSignals end serve and demo --serve gracefully: in-flight requests are
// answered and the .engine file is withdrawn. SIGHUP is among them because a
// closed SSH session or terminal sends it, and its default action would kill
// the process with requests committed but never answered.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// retentionFlag registers --retention (env EVENTDESK_RETENTION).
func retentionFlag(fs *flag.FlagSet, env Env) *string {
	return fs.String("retention", env.Getenv("EVENTDESK_RETENTION"), "how long events are kept, e.g. 7d, 36h (default 7d; stored for next time; env EVENTDESK_RETENTION)")
}

// Bounds of --lease: renewals go every third of it, so a shorter one costs
// the database a write per held lane every second or more often, and a
// longer one leaves a dead replica's work waiting for many minutes.
const (
	minLease = 5 * time.Second
	maxLease = 10 * time.Minute
)

// parseLease reads --lease; empty means the default (0).
func parseLease(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < minLease || d > maxLease {
		return 0, fmt.Errorf("--lease %q: use a duration from 5s to 10m, such as 30s or 2m", s)
	}
	return d, nil
}

// minRetention keeps a typo such as "7m" from wiping the event history
// within the hour.
const minRetention = time.Hour

// parseRetention reads a retention such as "7d", "36h" or "90m"; empty
// means "as stored, else the default" (0).
func parseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			if n > 100*365 {
				err = fmt.Errorf("too long")
			}
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < minRetention {
		return 0, fmt.Errorf("--retention %q: use a duration of at least 1h, such as 7d, 36h or 90m", s)
	}
	return d, nil
}
