package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/storecopy"
)

const copyUsage = `Copy a whole deployment from one store to another: instances with their
secrets, events, dedupe keys, notifications with their attempts, poll state
and checkpoints, the API secrets and settings, and rejected requests.
SRC and DST are each a bbolt database file or a PostgreSQL URL
(postgres://user:password@host/db), so a deployment moves from bbolt to
PostgreSQL, back, or to another file. Stop every eventdesk using SRC first.

DST must be empty unless --force. The copy writes every record by its key,
so an interrupted copy is completed by running the same command again with
--force. It ends with each table's counts at both ends, and exits with
status 1 when any differ.`

// copyProgressEvery is how often progress is printed during a table.
const copyProgressEvery = time.Second

func runCopy(args []string, env Env) error {
	fs := flags("copy", "--from SRC --to DST [flags]", copyUsage, env)
	from := fs.String("from", "", "the store to copy: a bbolt file or a postgres:// URL")
	to := fs.String("to", "", "the store to copy into: a bbolt file (created, mode 0600) or a postgres:// URL")
	force := fs.Bool("force", false, "copy into a destination that holds records (to complete an interrupted copy): records with the same keys are overwritten")
	batch := fs.Int("batch", storecopy.DefaultBatch, "records read and written at a time")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("copy", "copy takes no arguments, got %q (use --from and --to)", strings.Join(pos, " "))
	case *from == "" || *to == "":
		return usagef("copy", "copy needs both --from SRC and --to DST")
	case *batch <= 0:
		return usagef("copy", "--batch %d: must be a positive number of records", *batch)
	case *from == *to || (!engine.IsDatabaseURL(*from) && !engine.IsDatabaseURL(*to) && sameFile(*from, *to)):
		return usagef("copy", "--from and --to name the same store (%s)", postgresSafe(*from))
	}
	ctx, stop := signal.NotifyContext(env.base(), stopSignals...)
	defer stop()

	src, err := openCopyEnd(ctx, *from, "source", true)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openCopyEnd(ctx, *to, "destination", false)
	if err != nil {
		return err
	}
	defer dst.Close()
	s, ok := src.(storecopy.Source)
	if !ok {
		return fmt.Errorf("source %s cannot be read out for a copy", src.Path())
	}
	d, ok := dst.(storecopy.Destination)
	if !ok {
		return fmt.Errorf("destination %s cannot be written by a copy", dst.Path())
	}

	fmt.Fprintf(env.Stdout, "copying %s\n     to %s\n", src.Path(), dst.Path())
	p := &copyProgress{w: env.Stdout, now: time.Now}
	start := time.Now()
	rep, err := storecopy.Copy(ctx, s, d, storecopy.Options{Batch: *batch, Force: *force, Progress: p.report})
	elapsed := time.Since(start)
	switch {
	case errors.Is(err, storecopy.ErrNotEmpty):
		return fmt.Errorf("%s: %w; copy into an empty database, or give --force to complete an interrupted copy (records with the same keys are overwritten)", dst.Path(), err)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("copy interrupted (%v); what was copied stays: run the same command again with --force to complete it", err)
	case err != nil:
		return fmt.Errorf("%w; what was copied stays: run the same command again with --force to complete it", err)
	}
	p.flush()
	printCounts(env.Stdout, rep)
	n := rep.Copied(store.TableEvents)
	rate := float64(n) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(env.Stdout, "copied %d events in %s (%.0f events/s)\n", n, elapsed.Round(time.Millisecond), rate)
	if bad := rep.Mismatched(); len(bad) > 0 {
		return fmt.Errorf("the counts differ for %s: the source changed during the copy (stop every eventdesk using it, then run the copy again with --force), or the destination held records the source does not have (copy into an empty database)", strings.Join(bad, ", "))
	}
	fmt.Fprintln(env.Stdout, "every table's counts match")
	return nil
}

// copyEnd is a store a copy reads or writes.
type copyEnd interface {
	Path() string
	Close() error
}

// openCopyEnd opens one end of a copy. A source file must exist: a typo
// must not leave an empty database behind and copy nothing.
func openCopyEnd(ctx context.Context, location, role string, mustExist bool) (copyEnd, error) {
	if !engine.IsDatabaseURL(location) && mustExist {
		if _, err := os.Stat(location); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no database at %s", role, location)
		}
	}
	st, err := engine.OpenStore(ctx, location)
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return nil, fmt.Errorf("%s: %w; stop the eventdesk using it (serve or the console) before copying", role, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	return st, nil
}

// copyProgress prints a table's progress at most once a copyProgressEvery,
// and its last figure when the copy moves on.
type copyProgress struct {
	w       io.Writer
	now     func() time.Time
	table   string
	done    int
	total   int
	printed time.Time
	shown   bool
}

func (p *copyProgress) report(table string, done, total int) {
	if table != p.table {
		p.flush()
		p.table, p.printed = table, p.now()
	}
	p.done, p.total, p.shown = done, total, false
	if p.now().Sub(p.printed) >= copyProgressEvery {
		p.print()
	}
}

func (p *copyProgress) print() {
	fmt.Fprintf(p.w, "  %-14s %9d / %d\n", p.table, p.done, p.total)
	p.printed, p.shown = p.now(), true
}

// flush prints the current table's last figure if it was not shown.
func (p *copyProgress) flush() {
	if p.table != "" && !p.shown {
		p.print()
	}
}

// printCounts prints each table's counts at both ends.
func printCounts(w io.Writer, rep storecopy.Report) {
	fmt.Fprintf(w, "%-16s %12s %12s\n", "table", "source", "destination")
	for _, c := range rep.Counts {
		mark := ""
		if c.Source != c.Destination {
			mark = "  DIFFERENT"
		}
		fmt.Fprintf(w, "%-16s %12d %12d%s\n", c.Table, c.Source, c.Destination, mark)
	}
}
