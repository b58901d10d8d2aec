package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/demo"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

const demoUsage = `Run eventdesk on made-up data: fake Pipedrive and Close servers on loopback
ports and four instances (Pipedrive polling every minute, Pipedrive webhooks,
Close polling, Close webhooks) whose callbacks go to a built-in receiver;
the Pipedrive webhooks one calls back to a flaky endpoint, so retries and a
dead notification show. Vendor records change every few seconds.

The demo database is demo.db in the data directory (never the real
eventdesk.db); it is reset on every start. Logs go to demo.log next to it.`

// demoBanner is what the console's header says during a demo.
const demoBanner = "DEMO · made-up data"

func runDemo(args []string, env Env) error {
	fs := flags("demo", "[flags]", demoUsage, env)
	sf := addStoreFlags(fs, "demo", env)
	// The demo never runs on the configured store: only a flag names its
	// throwaway file.
	sf.withEnv = false
	fs.Lookup("db").Usage = "demo database file, reset on start (default demo.db in the data directory)"
	fs.Lookup("store").Usage = "the same as --db: the demo runs on a bbolt file only"
	listen := fs.String("listen", "127.0.0.1:0", "listen address of the listener (port 0: a free one)")
	public := fs.String("public-url", "", "URL the fake vendors reach the listener at (default http://LISTEN)")
	every := fs.Duration("every", 3*time.Second, "pause between generated vendor changes")
	serve := fs.Bool("serve", false, "no console: print the instances and log to stderr until Ctrl-C")
	fs.BoolVar(serve, "headless", false, "same as --serve")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo", "demo takes no arguments, got %q", strings.Join(pos, " "))
	}
	if *every <= 0 {
		return usagef("demo", "--every %v: must be a positive duration such as 3s", *every)
	}
	location, err := sf.location()
	if err != nil {
		return err
	}
	if engine.IsDatabaseURL(location) {
		return usagef("demo", "the demo does not run on PostgreSQL (%s): it seeds a throwaway bbolt file, reset on every start; give --db PATH, or none for demo.db in the data directory", postgresSafe(location))
	}
	if !*serve {
		if err := needTerminal(env, "eventdesk demo --serve"); err != nil {
			return err
		}
	}
	path, own := location, false
	if path == "" {
		real, err := store.DefaultPath()
		if err != nil {
			return err
		}
		path, own = filepath.Join(filepath.Dir(real), "demo.db"), true
	}
	// Caught from here on, so a signal during start-up stops gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	if err := resetDemoDB(ctx, path, own, env); err != nil {
		return err
	}
	st, err := engine.OpenStore(ctx, path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logPath := ""
	if !*serve {
		var closeLog func()
		if log, logPath, closeLog, err = consoleLog(path, slog.LevelInfo); err != nil {
			st.Close()
			return err
		}
		defer closeLog()
	}
	d, err := demo.Start(demo.Options{Every: *every, Logger: log})
	if err != nil {
		st.Close()
		return err
	}
	defer d.Stop()
	e, err := engine.Start(ctx, st, engine.Options{Listen: *listen, PublicURL: *public, Logger: log, Retry: demo.Retry})
	if err != nil {
		st.Close()
		return err
	}
	defer e.Stop()
	insts, err := d.Provision(ctx, st, e.PublicURL)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped by a signal while starting
		}
		return fmt.Errorf("demo: provision instances: %w", err)
	}
	d.Generate(e.Scheduler, insts)
	if !*serve {
		return runUI(e, log, logPath, demoBanner, env)
	}
	fmt.Fprintf(env.Stdout, "eventdesk demo — made-up data from fake Pipedrive and Close servers\n")
	fmt.Fprintf(env.Stdout, "listener %s, database %s (reset on every demo start)\n", e.PublicURL, path)
	auth := "Authorization: User " + e.Secrets.User + ", Organization " + e.Secrets.Organization
	fmt.Fprintf(env.Stdout, "API header: %s\n", auth)
	for _, in := range insts {
		fmt.Fprintf(env.Stdout, "  instance %d  %-26s %s\n", in.ID, in.Name, model.WebhookURL(e.PublicURL, in.ElementKey, in.ID))
	}
	// The command works as printed: the demo's secrets are throwaway ones.
	fmt.Fprintf(env.Stdout, "Watch: curl -N -H '%s' %s/elements/api-v2/instances/events/stream   (Ctrl-C stops)\n", auth, e.PublicURL)
	select {
	case <-ctx.Done():
	case <-e.Done():
	}
	return nil
}

// resetDemoDB removes a previous demo database so every demo starts from
// the same four instances. The demo's own demo.db (own) is always reset,
// whatever was added to it during a demo; a file given with --db is refused
// when it holds anything the demo did not create (an instance without the
// "demo" tag), since it may be real data named by mistake. The real default
// database is never touched.
func resetDemoDB(ctx context.Context, path string, own bool, env Env) error {
	if real, err := store.DefaultPath(); err == nil && sameFile(path, real) {
		return fmt.Errorf("refusing to run the demo on %s: it is the real eventdesk database; choose another --db", path)
	}
	for _, name := range []string{"EVENTDESK_DB", "EVENTDESK_STORE"} {
		if p := env.Getenv(name); p != "" && !engine.IsDatabaseURL(p) && sameFile(path, p) {
			return fmt.Errorf("refusing to run the demo on %s: it is the database %s names; choose another --db", path, name)
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Opening it first also refuses a demo that is already running.
	st, err := engine.OpenStore(ctx, path)
	if err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	insts, err := st.Instances(ctx)
	st.Close()
	if err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	for _, in := range insts {
		if !own && !slices.Contains(in.Tags, "demo") {
			return fmt.Errorf("refusing to reset %s for the demo: it holds instance %d %q, which the demo did not create; choose another --db", path, in.ID, in.Name)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("reset the demo database: %w", err)
	}
	return nil
}

// sameFile reports whether a and b name the same file, existing or not.
func sameFile(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	aa, errA := filepath.Abs(a)
	ab, errB := filepath.Abs(b)
	return errA == nil && errB == nil && aa == ab
}
