package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// apiSecretFlags are the API secrets given to serve and the console: on the
// command line (visible to every local user in ps), in the environment, or
// in files, which servers should use.
type apiSecretFlags struct {
	user, org         *string
	userFile, orgFile *string
}

// secretFlags registers --user-secret, --org-secret and their -file forms
// (env EVENTDESK_USER_SECRET, EVENTDESK_ORG_SECRET, and
// EVENTDESK_USER_SECRET_FILE, EVENTDESK_ORG_SECRET_FILE).
func secretFlags(fs *flag.FlagSet, env Env) *apiSecretFlags {
	return &apiSecretFlags{
		user: fs.String("user-secret", env.Getenv("EVENTDESK_USER_SECRET"),
			"API User secret (default: generated once and stored; visible in ps, so prefer --user-secret-file on servers; env EVENTDESK_USER_SECRET)"),
		org: fs.String("org-secret", env.Getenv("EVENTDESK_ORG_SECRET"),
			"API Organization secret (default: generated once and stored; visible in ps, so prefer --org-secret-file on servers; env EVENTDESK_ORG_SECRET)"),
		userFile: fs.String("user-secret-file", env.Getenv("EVENTDESK_USER_SECRET_FILE"),
			"read the API User secret from FILE (its first line; keep the file 0600; env EVENTDESK_USER_SECRET_FILE)"),
		orgFile: fs.String("org-secret-file", env.Getenv("EVENTDESK_ORG_SECRET_FILE"),
			"read the API Organization secret from FILE (its first line; keep the file 0600; env EVENTDESK_ORG_SECRET_FILE)"),
	}
}

// attachSecretFlags registers the same four flags for a command that sends
// the secrets to an engine it attaches to (--server, a context), with getenv
// giving their defaults (nil: none).
func attachSecretFlags(fs *flag.FlagSet, getenv func(string) string) *apiSecretFlags {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &apiSecretFlags{
		user: fs.String("user-secret", getenv("EVENTDESK_USER_SECRET"),
			"API User secret for --server (visible in ps: prefer --user-secret-file; env EVENTDESK_USER_SECRET)"),
		org: fs.String("org-secret", getenv("EVENTDESK_ORG_SECRET"),
			"API Organization secret for --server (visible in ps: prefer --org-secret-file; env EVENTDESK_ORG_SECRET)"),
		userFile: fs.String("user-secret-file", getenv("EVENTDESK_USER_SECRET_FILE"),
			"read the API User secret from FILE (its first line; env EVENTDESK_USER_SECRET_FILE)"),
		orgFile: fs.String("org-secret-file", getenv("EVENTDESK_ORG_SECRET_FILE"),
			"read the API Organization secret from FILE (its first line; env EVENTDESK_ORG_SECRET_FILE)"),
	}
}

// resolve returns the secrets to start the engine with ("" keeps the stored
// one). A secret given both directly and as a file is a usage error of cmd
// ("" for the console): which one wins would be a guess.
func (f *apiSecretFlags) resolve(cmd string) (user, org string, err error) {
	user, err = secretValue(cmd, "user-secret", *f.user, *f.userFile)
	if err != nil {
		return "", "", err
	}
	org, err = secretValue(cmd, "org-secret", *f.org, *f.orgFile)
	return user, org, err
}

func secretValue(cmd, name, direct, file string) (string, error) {
	if file == "" {
		return direct, nil
	}
	if direct != "" {
		return "", usagef(cmd, "--%s (or its environment variable) and --%s-file are both given; give one", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", name, err)
	}
	// The first line, without its line ending: files written by echo or an
	// editor end with a newline that is not part of the secret.
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("--%s-file %s: %w", name, file, errEmptySecretFile)
	}
	return line, nil
}

// errEmptySecretFile: a secret file whose first line is blank. Starting with
// a generated secret instead would lock out whoever wrote the file.
var errEmptySecretFile = errors.New("the first line is empty; write the secret on it")
