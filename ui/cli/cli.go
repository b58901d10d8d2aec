// Package cli is eventdesk's command line: the sub-commands that run the
// engine headless or work on the database directly. main.go only calls Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Version is set at build time with -ldflags "-X …/ui/cli.Version=v1.2.3".
var Version = ""

// Env carries the process's surroundings so tests can run commands in-process.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Getenv         func(string) string
	// Console runs the interactive console; nil prints usage instead.
	Console func(args []string, env Env) error
	// Context, when set, ends long-running verbs (events tail) as a
	// signal would; tests use it.
	Context context.Context
}

// base is the context long-running verbs start from.
func (e Env) base() context.Context {
	if e.Context != nil {
		return e.Context
	}
	return context.Background()
}

type command struct {
	name    string
	summary string
	run     func(args []string, env Env) error
}

func commands() []command {
	return []command{
		{"serve", "run the engine (listener, poll scheduler, dispatcher) without a screen", runServe},
		{"demo", "run against built-in fake Pipedrive and Close servers", runDemo},
		{"instances", "list, show, create or delete element instances", runInstances},
		{"webhook-url", "print the webhook URL of an instance", runWebhookURL},
		{"webhook", "register or unregister an instance's webhook with the vendor", runWebhook},
		{"poll", "run one poll cycle of an instance now, print its events", runPoll},
		{"notifications", "list callback notifications, replay failed ones", runNotifications},
		{"secrets", "print the API's User and Organization secrets", runSecrets},
		{"backup", "write a consistent copy of the database to a file", runBackup},
		{"copy", "copy a whole deployment between stores (bbolt, PostgreSQL)", runCopy},
		{"events", "list stored events or follow new ones (tail)", runEvents},
		{"context", "name remote engines to attach to (add, list, use, remove)", runContext},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks errors where the usage was already printed.
var errUsage = errors.New("usage")

// usageError is a mistake in the command line itself (a missing or extra
// argument, a flag value that cannot be read): like a bad flag, it exits
// with status 2, so scripts can tell it from a failure of the work asked.
type usageError struct {
	cmd string // the command whose help to point to ("" for the console)
	msg string
}

func (e *usageError) Error() string { return e.msg }

// usagef builds a usageError for cmd.
func usagef(cmd, format string, a ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, a...)}
}

// Run executes one command line and returns the process exit code.
func Run(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	err := dispatch(args, env)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ue):
		help := "eventdesk help"
		if ue.cmd != "" {
			help = "eventdesk " + ue.cmd + " --help"
		}
		fmt.Fprintf(env.Stderr, "eventdesk: %s\nRun '%s' for usage.\n", ue.msg, help)
		return 2
	default:
		fmt.Fprintln(env.Stderr, "eventdesk:", err)
		return 1
	}
}

func dispatch(args []string, env Env) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			usage(env.Stdout)
			return nil
		}
		if env.Console != nil {
			return env.Console(args, env)
		}
		usage(env.Stderr)
		return errUsage
	}
	if args[0] == "help" {
		if len(args) > 1 {
			return dispatch([]string{args[1], "--help"}, env)
		}
		usage(env.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], env)
		}
	}
	fmt.Fprintf(env.Stderr, "eventdesk: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "eventdesk — a console for SaaS integration events (Pipedrive, Close)")
	fmt.Fprintln(w, "\nUsage:\n  eventdesk [flags]           run the console (flags as for serve: --store, --db, --listen, --public-url,\n                              --user-secret, --org-secret, --log-level, --retention;\n                              --server URL or --context NAME attach it to a running engine)\n  eventdesk COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'eventdesk COMMAND --help' for a command's flags, 'eventdesk serve --help' for the console's.")
	fmt.Fprintln(w, "The database is "+defaultDBHelp+",\nunless --db or EVENTDESK_DB says otherwise; --store or EVENTDESK_STORE names a file\nor a PostgreSQL database (postgres://user:password@host/db).")
}

// flags builds a FlagSet whose usage names the command and its arguments.
func flags(name, argsUsage, summary string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.Join(strings.Fields("eventdesk "+name+" "+argsUsage), " "), summary)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse accepts flags before, between and after positional arguments
// ("instances show 3 --db x.db" works as well as "--db x.db show 3").
func parse(fs *flag.FlagSet, args []string, env Env) ([]string, error) {
	var pos []string
	// The flag package prints the usage itself on -h and on a bad flag;
	// hold it back so help goes to stdout once and a mistake to stderr.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(env.Stdout)
				usage()
				return nil, flag.ErrHelp
			}
			usage()
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// defaultDBHelp names the database used without --db, as store.DefaultPath
// finds it.
const defaultDBHelp = "$XDG_DATA_HOME/eventdesk/eventdesk.db, else ~/.local/share/eventdesk/eventdesk.db"

func runVersion(args []string, env Env) error {
	fs := flags("version", "", "Print the version.", env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version", "version takes no arguments, got %q", strings.Join(pos, " "))
	}
	fmt.Fprintln(env.Stdout, "eventdesk", versionString())
	return nil
}

func versionString() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	v := "devel"
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if settings["vcs.modified"] == "true" {
			v += "+dirty"
		}
	}
	return v + " " + info.GoVersion
}

// instanceID parses the instance id argument of cmd.
func instanceID(cmd, arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef(cmd, "instance id %q is not a positive whole number", arg)
	}
	return id, nil
}

// actionArity is one action of a command with sub-actions and how many
// arguments it takes (0 or 1).
type actionArity struct {
	name string
	args int
}

// action splits a command's positional arguments into its action and the
// action's arguments, with a usage error for an unknown action or a wrong
// count; noun names the one argument ("instance id").
func action(cmd string, pos []string, actions []actionArity, noun string) (string, []string, error) {
	verb, rest := pos[0], pos[1:]
	names := make([]string, len(actions))
	n := -1
	for i, a := range actions {
		names[i] = a.name
		if a.name == verb {
			n = a.args
		}
	}
	if n < 0 {
		list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
		return "", nil, usagef(cmd, "%s: unknown action %q (use %s)", cmd, verb, list)
	}
	if len(rest) != n {
		if n == 0 {
			return "", nil, usagef(cmd, "%s %s takes no arguments, got %q", cmd, verb, strings.Join(rest, " "))
		}
		return "", nil, usagef(cmd, "%s %s needs exactly one %s", cmd, verb, noun)
	}
	return verb, rest, nil
}
