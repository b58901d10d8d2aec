package cli

import (
	"context"
	"sync"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/ui"
)

// contextEntry is one named engine to attach to, as kubectl's contexts
// name clusters.
type contextEntry struct {
	Name       string `json:"name"`
	Server     string `json:"server"`
	UserSecret string `json:"userSecret"`
	OrgSecret  string `json:"orgSecret"`
	Insecure   bool   `json:"insecure,omitempty"`
}

// contextsFile is $XDG_CONFIG_HOME/eventdesk/contexts.json.
type contextsFile struct {
	Current  string         `json:"current,omitempty"`
	Contexts []contextEntry `json:"contexts"`
}

// contextsPath is where named contexts live.
func contextsPath(env Env) (string, error) {
	dir := env.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the config directory: set XDG_CONFIG_HOME or HOME: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "eventdesk", "contexts.json"), nil
}

func loadContexts(env Env) (contextsFile, string, error) {
	var cf contextsFile
	path, err := contextsPath(env)
	if err != nil {
		return cf, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cf, path, nil
	}
	if err != nil {
		return cf, path, err
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return cf, path, fmt.Errorf("%s: %w (fix or remove the file)", path, err)
	}
	return cf, path, nil
}

// saveContexts writes the file 0600: it holds API secrets. A new file is
// created exclusively, so an existing one (or a link planted in its
// place) is never followed; a changed one replaces the old by rename.
func saveContexts(path string, cf contextsFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	b, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func (cf contextsFile) find(name string) (contextEntry, bool) {
	for _, c := range cf.Contexts {
		if c.Name == name {
			return c, true
		}
	}
	return contextEntry{}, false
}

// resolveContext is the context named by --context (or EVENTDESK_CONTEXT),
// else the current one; ok is false when neither is set.
func resolveContext(name string, env Env) (contextEntry, bool, error) {
	cf, path, err := loadContexts(env)
	if err != nil {
		return contextEntry{}, false, err
	}
	if name == "" {
		name = cf.Current
		if name == "" {
			return contextEntry{}, false, nil
		}
	}
	c, ok := cf.find(name)
	if !ok {
		return c, false, fmt.Errorf("no context %q in %s (eventdesk context list shows them)", name, path)
	}
	return c, true, nil
}

const contextUsage = `Name the engines you attach to, as kubectl and k9s name clusters.

  add NAME --server URL --user-secret S --org-secret S [--insecure]
  list                 the contexts; * marks the current one
  use NAME             attach to NAME from now on ("use -" goes back to the
                       local database)
  remove NAME

They live in $XDG_CONFIG_HOME/eventdesk/contexts.json (mode 0600: it holds
the API secrets). --context NAME on any command picks one for that run;
--server always wins over a context.`

func runContext(args []string, env Env) error {
	fs := flags("context", "add|list|use|remove [NAME] [flags]", contextUsage, env)
	server := fs.String("server", "", "the engine's URL (https://…)")
	sec := attachSecretFlags(fs, nil)
	insecure := fs.Bool("insecure", false, "allow plain http to a host that is not this machine")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	cf, path, err := loadContexts(env)
	if err != nil {
		return err
	}
	verb, rest, err := action("context", pos, []actionArity{{"add", 1}, {"list", 0}, {"use", 1}, {"remove", 1}}, "context name")
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		if len(cf.Contexts) == 0 {
			fmt.Fprintln(env.Stdout, "no contexts yet; add one with: eventdesk context add NAME --server URL --user-secret S --org-secret S")
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CURRENT\tNAME\tSERVER")
		for _, c := range cf.Contexts {
			mark := ""
			if c.Name == cf.Current {
				mark = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, c.Name, c.Server)
		}
		return tw.Flush()
	case "add":
		name := rest[0]
		if strings.TrimSpace(name) == "" || name == "-" || strings.ContainsAny(name, " \t\n") {
			return usagef("context", "context name %q: use a word without spaces, such as prod", name)
		}
		user, org, err := sec.resolve("context")
		if err != nil {
			return err
		}
		if *server == "" || user == "" || org == "" {
			return usagef("context", "context add needs --server, --user-secret (or --user-secret-file) and --org-secret (or --org-secret-file) (`eventdesk secrets` on the server prints the secrets)")
		}
		u, err := url.Parse(*server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("context", "--server %q: use an absolute http(s) URL such as https://events.example.com", *server)
		}
		c := contextEntry{Name: name, Server: strings.TrimSuffix(*server, "/"), UserSecret: user, OrgSecret: org, Insecure: *insecure}
		if i := slices.IndexFunc(cf.Contexts, func(e contextEntry) bool { return e.Name == name }); i >= 0 {
			cf.Contexts[i] = c
		} else {
			cf.Contexts = append(cf.Contexts, c)
		}
		if err := saveContexts(path, cf); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "context %s → %s saved in %s\n", name, c.Server, path)
		return nil
	case "use":
		name := rest[0]
		if name == "-" {
			cf.Current = ""
		} else if _, ok := cf.find(name); !ok {
			return fmt.Errorf("no context %q in %s (eventdesk context list shows them)", name, path)
		} else {
			cf.Current = name
		}
		if err := saveContexts(path, cf); err != nil {
			return err
		}
		if name == "-" {
			fmt.Fprintln(env.Stdout, "using the local database again")
		} else {
			fmt.Fprintf(env.Stdout, "using context %s\n", name)
		}
		return nil
	}
	name := rest[0]
	i := slices.IndexFunc(cf.Contexts, func(e contextEntry) bool { return e.Name == name })
	if i < 0 {
		return fmt.Errorf("no context %q in %s", name, path)
	}
	cf.Contexts = slices.Delete(cf.Contexts, i, i+1)
	if cf.Current == name {
		cf.Current = ""
	}
	if err := saveContexts(path, cf); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed context %s\n", name)
	return nil
}

// contextSwitcher lets the console list the contexts file and attach to
// one of them (":ctx NAME"), or go back to the engine it started with
// ("-"). The choice lasts for the session; `eventdesk context use`
// changes the default.
type contextSwitcher struct {
	env   Env
	start ui.Deps
	mu    sync.Mutex
	cur   string
	open  backend.Backend
}

// Contexts implements ui.Switcher.
func (s *contextSwitcher) Contexts() ([]string, string, error) {
	cf, _, err := loadContexts(s.env)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, len(cf.Contexts))
	for i, c := range cf.Contexts {
		names[i] = c.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return names, s.cur, nil
}

// Attach implements ui.Switcher.
func (s *contextSwitcher) Attach(ctx context.Context, name string) (ui.Deps, error) {
	var d ui.Deps
	if name == "-" {
		d = s.start
	} else {
		c, ok, err := resolveContext(name, s.env)
		if err != nil {
			return d, err
		}
		if !ok {
			return d, fmt.Errorf("no context %q", name)
		}
		b, err := backend.NewRemote(backend.RemoteOptions{URL: c.Server, User: c.UserSecret, Organization: c.OrgSecret, Insecure: c.Insecure,
			Attached: "context " + c.Name + " · " + c.Server})
		if err != nil {
			return d, err
		}
		if d, err = ui.FromBackend(ctx, b); err != nil {
			b.Close()
			return d, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil {
		s.open.Close()
		s.open = nil
	}
	if name != "-" {
		s.open = d.Backend
		s.cur = name
	} else {
		s.cur = ""
	}
	return d, nil
}
