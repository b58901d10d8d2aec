package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
)

func runWebhookURL(args []string, env Env) error {
	fs := flags("webhook-url", "ID [flags]", "Print the URL a vendor should post webhooks to for instance ID:\n{public URL}/elements/api-v2/events/{elementKey}/{base64 id}", env)
	ef := addEngineFlags(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("webhook-url", "webhook-url needs exactly one instance id")
	}
	id, err := instanceID("webhook-url", pos[0])
	if err != nil {
		return err
	}
	b, err := ef.open(env, readOnly)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := context.Background()
	info, err := b.Info(ctx)
	if err != nil {
		return err
	}
	in, err := b.Instance(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, model.WebhookURL(info.PublicURL, in.ElementKey, in.ID))
	return nil
}

func runSecrets(args []string, env Env) error {
	fs := flags("secrets", "[flags]", "Print the API secrets for 'Authorization: User <user>, Organization <org>'.\nThey are generated on first use and stored in the database; while an\neventdesk holds the database, they are the ones it uses.", env)
	ef := addEngineFlags(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("secrets", "secrets takes no arguments, got %q", strings.Join(pos, " "))
	}
	b, err := ef.open(env, readWrite)
	if err != nil {
		return err
	}
	defer b.Close()
	sec, err := b.Secrets(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "User secret:         %s\nOrganization secret: %s\nHeader:              Authorization: User %s, Organization %s\n",
		sec.User, sec.Organization, sec.User, sec.Organization)
	return nil
}

const backupUsage = `Write a consistent copy of the database to FILE (mode 0600; written to a
temporary file and renamed, so FILE never holds half a copy).

While serve or the console has the database open, the copy comes from
that running eventdesk (a hot backup through its API, found through the
.engine file it keeps next to the database); with --server or a context,
from that engine; otherwise the file is read directly.

A PostgreSQL store (--store postgres://…) is backed up with PostgreSQL's
own pg_dump: backup prints the command to run and exits.`

func runBackup(args []string, env Env) error {
	fs := flags("backup", "FILE [flags]", backupUsage, env)
	ef := addEngineFlags(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup", "backup needs exactly one destination file")
	}
	loc, err := ef.store.location()
	if err != nil {
		return err
	}
	if engine.IsDatabaseURL(loc) && *ef.server == "" && *ef.context == "" {
		fmt.Fprintf(env.Stdout, "This deployment is kept in PostgreSQL, which eventdesk backup does not copy.\nBack it up with pg_dump (pg_restore reads the file back):\n\n  %s\n\nPut the password where *** stands, or leave it out of the URL and set PGPASSWORD\nor use ~/.pgpass.\n", postgres.BackupCommand(loc, pos[0]))
		return nil
	}
	b, err := ef.open(env, readOnly)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		_, err := b.Backup(ctx, pw)
		pw.CloseWithError(err)
	}()
	n, err := store.SaveBackup(pos[0], pr)
	pr.CloseWithError(err)
	var se *backend.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotImplemented {
		// An engine on PostgreSQL says how to back it up instead.
		fmt.Fprintf(env.Stdout, "eventdesk at %s: %s\n", se.Server, se.Message)
		return nil
	}
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
		return fmt.Errorf("the running eventdesk at %s is already sending a backup, one at a time; run backup again when it has finished", se.Server)
	}
	if err != nil {
		return err
	}
	from := ""
	if info, err := b.Info(ctx); err == nil && info.Attached != "" {
		from = ", a hot copy from the running eventdesk"
		if info.PID != 0 {
			from += fmt.Sprintf(" (pid %d)", info.PID)
		}
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes)%s\n", pos[0], n, from)
	return nil
}

// readAllLimited reads standard input up to 8 MiB; an instance file is small.
func readAllLimited(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, 8<<20+1))
	if err == nil && len(data) > 8<<20 {
		err = fmt.Errorf("input is larger than 8 MiB")
	}
	return data, err
}
