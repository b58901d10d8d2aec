package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/demo"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

const demoUsage = `Run eventdesk against built-in fake Pipedrive and Close servers: three
instances (Pipedrive polling every minute, Pipedrive webhooks, Close
webhooks) whose callbacks go to a local receiver that fails one in ten
requests, while vendor records keep changing every few seconds.
The demo uses a fresh temporary database unless --db is given.`

func runDemo(args []string, env Env) error {
	fs := flags("demo", "[flags]", demoUsage, env)
	db := fs.String("db", "", "database file (default: a fresh temporary one, removed on exit)")
	listen := fs.String("listen", "127.0.0.1:0", "listen address of the listener")
	every := fs.Duration("every", 3*time.Second, "pause between generated vendor changes")
	headless := fs.Bool("headless", false, "no console: print the instances and log to stderr")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("demo takes no arguments, got %q", strings.Join(pos, " "))
	}
	path := *db
	if path == "" {
		dir, err := os.MkdirTemp("", "eventdesk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.db")
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logPath := ""
	if !*headless {
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
	e, err := engine.Start(st, engine.Options{Listen: *listen, Logger: log,
		// Short retries so a failed callback is visibly retried and delivered.
		Retry: model.RetryPolicy{Base: 250 * time.Millisecond, MaxRetries: 9, Jitter: 0.2}})
	if err != nil {
		st.Close()
		return err
	}
	defer e.Stop()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	insts, err := d.Provision(ctx, st, e.PublicURL)
	if err != nil {
		return fmt.Errorf("demo: provision instances: %w", err)
	}
	d.Generate()
	if !*headless {
		return runUI(e, log, logPath, env)
	}
	fmt.Fprintf(env.Stdout, "eventdesk demo: listener %s, database %s\n", e.PublicURL, path)
	fmt.Fprintf(env.Stdout, "API header: Authorization: User %s, Organization %s\n", e.Secrets.User, e.Secrets.Organization)
	for _, in := range insts {
		fmt.Fprintf(env.Stdout, "  instance %d  %-22s %s\n", in.ID, in.Name, model.WebhookURL(e.PublicURL, in.ElementKey, in.ID))
	}
	fmt.Fprintln(env.Stdout, "Watch: curl -N -H 'Authorization: …' "+e.PublicURL+"/elements/api-v2/instances/events/stream   (Ctrl-C stops)")
	select {
	case <-ctx.Done():
	case <-e.Done():
	}
	return nil
}
