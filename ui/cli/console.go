package cli

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/ui"
)

// Console runs the terminal console with the engine (listener, poll
// scheduler, dispatcher) in the same process. Logs go to eventdesk.log next
// to the database, never to the screen.
func Console(args []string, env Env) error {
	fs := flags("[--db PATH]", "[--listen ADDR] [--public-url URL]", "Run the console: the engine plus a terminal UI. Logs go to eventdesk.log next to the database.", env)
	db := dbFlag(fs, env)
	listen := fs.String("listen", env.Getenv("EVENTDESK_LISTEN"), "listen address (default "+engine.DefaultListen+"; stored for next time; env EVENTDESK_LISTEN)")
	public := fs.String("public-url", env.Getenv("EVENTDESK_PUBLIC_URL"), "URL vendors reach the listener at (default http://LISTEN; stored; env EVENTDESK_PUBLIC_URL)")
	user := fs.String("user-secret", env.Getenv("EVENTDESK_USER_SECRET"), "API User secret (env EVENTDESK_USER_SECRET)")
	org := fs.String("org-secret", env.Getenv("EVENTDESK_ORG_SECRET"), "API Organization secret (env EVENTDESK_ORG_SECRET)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unknown command %q (see eventdesk help)", strings.Join(pos, " "))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", *level)
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	logPath := filepath.Join(filepath.Dir(st.Path()), "eventdesk.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		st.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: lv}))
	// Anything that logs through the standard packages must not scribble
	// over the screen either.
	prevSlog, prevOut := slog.Default(), log.Writer()
	slog.SetDefault(logger)
	log.SetOutput(logFile)
	defer func() { slog.SetDefault(prevSlog); log.SetOutput(prevOut) }()

	e, err := engine.Start(st, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: *user, OrgSecret: *org, Logger: logger})
	if err != nil {
		st.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	deps := ui.FromEngine(e)
	deps.LogPath = logPath
	var out io.Writer = env.Stdout
	runErr := ui.Run(ctx, deps, env.Stdin, out)
	logger.Info("console closed")
	if err := e.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
