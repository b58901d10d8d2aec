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
	fs := flags("", "[flags]", "Run the console: the engine plus a terminal UI. Logs go to eventdesk.log next to the database.", env)
	db := dbFlag(fs, env)
	listen := fs.String("listen", env.Getenv("EVENTDESK_LISTEN"), "listen address (default "+engine.DefaultListen+"; stored for next time, \"default\" forgets it; env EVENTDESK_LISTEN)")
	public := fs.String("public-url", env.Getenv("EVENTDESK_PUBLIC_URL"), "URL vendors reach the listener at (default http://LISTEN; stored for next time, \"default\" forgets it; env EVENTDESK_PUBLIC_URL)")
	secrets := secretFlags(fs, env)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	retention := retentionFlag(fs, env)
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
	keep, err := parseRetention(*retention)
	if err != nil {
		return err
	}
	user, org, err := secrets.resolve(env)
	if err != nil {
		return err
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	logger, logPath, closeLog, err := consoleLog(st.Path(), lv)
	if err != nil {
		st.Close()
		return err
	}
	defer closeLog()
	e, err := engine.Start(st, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: user, OrgSecret: org, Logger: logger, Retention: keep})
	if err != nil {
		st.Close()
		return err
	}
	runErr := runUI(e, logger, logPath, "", env)
	if err := e.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// consoleLog opens the log next to the database, named after it
// (eventdesk.db → eventdesk.log, demo.db → demo.log, so a demo never mixes
// its lines into the real log), and routes the standard loggers there too:
// nothing may scribble over the screen.
func consoleLog(dbPath string, lv slog.Level) (*slog.Logger, string, func(), error) {
	logPath := strings.TrimSuffix(dbPath, filepath.Ext(dbPath)) + ".log"
	if logPath == dbPath {
		logPath += ".log"
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open log file: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: lv}))
	prevSlog, prevOut := slog.Default(), log.Writer()
	slog.SetDefault(logger)
	log.SetOutput(logFile)
	return logger, logPath, func() {
		slog.SetDefault(prevSlog)
		log.SetOutput(prevOut)
		logFile.Close()
	}, nil
}

// runUI runs the terminal UI on a started engine until the user quits;
// banner, when set, stands in the header on every screen.
func runUI(e *engine.Engine, logger *slog.Logger, logPath, banner string, env Env) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	deps := ui.FromEngine(e)
	deps.LogPath = logPath
	deps.Banner = banner
	var out io.Writer = env.Stdout
	err := ui.Run(ctx, deps, env.Stdin, out)
	logger.Info("console closed")
	return err
}
