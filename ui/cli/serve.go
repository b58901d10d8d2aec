package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/eventdesk/eventdesk/provider/engine"
)

func runServe(args []string, env Env) error {
	fs := flags("serve", "[flags]", "Run the engine without a screen: the HTTP listener (API and webhook receiver).\nLogs go to stderr. SIGINT or SIGTERM stops it gracefully.", env)
	db := dbFlag(fs, env)
	listen := fs.String("listen", env.Getenv("EVENTDESK_LISTEN"), "listen address (default "+engine.DefaultListen+"; stored for next time; env EVENTDESK_LISTEN)")
	public := fs.String("public-url", env.Getenv("EVENTDESK_PUBLIC_URL"), "URL vendors reach the listener at (default http://LISTEN; stored; env EVENTDESK_PUBLIC_URL)")
	user := fs.String("user-secret", env.Getenv("EVENTDESK_USER_SECRET"), "API User secret (default: generated once and stored; env EVENTDESK_USER_SECRET)")
	org := fs.String("org-secret", env.Getenv("EVENTDESK_ORG_SECRET"), "API Organization secret (default: generated once and stored; env EVENTDESK_ORG_SECRET)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", strings.Join(pos, " "))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", *level)
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lv}))
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	e, err := engine.Start(st, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: *user, OrgSecret: *org, Logger: log})
	if err != nil {
		st.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case <-e.Done():
	}
	return e.Stop()
}
