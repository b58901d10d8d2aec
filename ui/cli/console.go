package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/ui"
)

// Console runs the terminal console with the engine (listener, poll
// scheduler, dispatcher) in the same process. Logs go to eventdesk.log next
// to the database, never to the screen.
func Console(args []string, env Env) error {
	fs := flags("", "[flags]", "Run the console: the engine plus a terminal UI. Logs go to eventdesk.log next to the database.", env)
	sf := addStoreFlags(fs, "", env)
	server := fs.String("server", env.Getenv("EVENTDESK_SERVER"), "attach to the eventdesk API at this URL instead of running an engine here (env EVENTDESK_SERVER)")
	insecure := fs.Bool("insecure", false, "allow sending the API secrets over plain http to a host that is not this machine")
	ctxName := fs.String("context", env.Getenv("EVENTDESK_CONTEXT"), "attach to the engine of this named context (see eventdesk context; env EVENTDESK_CONTEXT)")
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
		return usagef("", "unknown command %q", strings.Join(pos, " "))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usagef("serve", "--log-level %q: use debug, info, warn or error", *level)
	}
	keep, err := parseRetention(*retention)
	if err != nil {
		return usagef("serve", "%v", err)
	}
	user, org, err := secrets.resolve("")
	if err != nil {
		return err
	}
	// A mistake in the store's name is reported before anything starts.
	if _, err := sf.location(); err != nil {
		return err
	}
	if err := needTerminal(env, "eventdesk serve"); err != nil {
		return err
	}
	verbose := false
	// The secrets are resolved already (files read): hand them on as given.
	none := ""
	ef := &engineFlags{store: sf, server: server, secrets: &apiSecretFlags{user: &user, org: &org, userFile: &none, orgFile: &none},
		insecure: insecure, context: ctxName, verbose: &verbose}
	if b, ok, err := ef.openRemote(env); ok || err != nil {
		if err != nil {
			return err
		}
		return attachUI(b, env)
	}
	path, err := sf.resolved()
	if err != nil {
		return err
	}
	if engine.IsDatabaseURL(path) {
		return consoleOn(path, lv, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: user, OrgSecret: org, Retention: keep, Version: versionString()}, env)
	}
	if b, err := attachLocal(path); b != nil || err != nil {
		if err != nil {
			return err
		}
		return attachUI(b, env)
	}
	st, err := openStore(context.Background(), path)
	var locked *store.LockedError
	if errors.As(err, &locked) {
		if b, aerr := attachLocal(path); b != nil {
			return attachUI(b, env)
		} else if aerr != nil {
			return aerr
		}
		return lockedBy(path, err)
	}
	if err != nil {
		return err
	}
	logger, logPath, closeLog, err := consoleLog(st.Path(), lv)
	if err != nil {
		st.Close()
		return err
	}
	defer closeLog()
	e, err := engine.Start(context.Background(), st, engine.Options{Listen: *listen, PublicURL: *public, UserSecret: user, OrgSecret: org, Logger: logger, Retention: keep, Version: versionString()})
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

// consoleOn runs the console with an engine on the PostgreSQL database at
// url, beside any replicas serving it. The log goes to eventdesk.log in
// the data directory, as there is no database file to keep it next to.
func consoleOn(url string, lv slog.Level, opts engine.Options, env Env) error {
	st, err := openStore(context.Background(), url)
	if err != nil {
		return err
	}
	def, err := store.DefaultPath()
	if err != nil {
		st.Close()
		return err
	}
	if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
		st.Close()
		return fmt.Errorf("create the data directory for the console's log: %w", err)
	}
	logger, logPath, closeLog, err := consoleLog(def, lv)
	if err != nil {
		st.Close()
		return err
	}
	defer closeLog()
	opts.Logger = logger
	e, err := engine.Start(context.Background(), st, opts)
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

// needTerminal refuses to start the console unless standard input and
// output are a terminal, before anything starts: Bubble Tea would otherwise
// fail half way, leaving the terminal in the alternate screen with the
// mouse on. instead names the command that runs the same without a screen.
func needTerminal(env Env, instead string) error {
	if isTerminal(env.Stdin) && isTerminal(env.Stdout) {
		return nil
	}
	return fmt.Errorf("the console needs a terminal; use `%s`", instead)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(f.Fd())
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

// attachUI runs the terminal UI on an engine running elsewhere; its log
// stays with that engine.
func attachUI(b backend.Backend, env Env) error {
	defer b.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	deps, err := ui.FromBackend(ictx, b)
	cancel()
	if err != nil {
		return err
	}
	deps.Switcher = &contextSwitcher{env: env, start: deps}
	// Nothing may scribble over the screen: the standard loggers are
	// silenced while it shows.
	prevSlog, prevOut := slog.Default(), log.Writer()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	log.SetOutput(io.Discard)
	defer func() {
		slog.SetDefault(prevSlog)
		log.SetOutput(prevOut)
	}()
	return ui.Run(ctx, deps, env.Stdin, env.Stdout)
}

// runUI runs the terminal UI on a started engine until the user quits;
// banner, when set, stands in the header on every screen.
func runUI(e *engine.Engine, logger *slog.Logger, logPath, banner string, env Env) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	deps := ui.FromEngine(e)
	deps.LogPath = logPath
	deps.Banner = banner
	if banner == "" {
		deps.Switcher = &contextSwitcher{env: env, start: deps}
	}
	var out io.Writer = env.Stdout
	err := ui.Run(ctx, deps, env.Stdin, out)
	logger.Info("console closed")
	return err
}
