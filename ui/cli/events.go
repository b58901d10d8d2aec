package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/ui"
)

const eventsUsage = `List stored events, newest first, or follow new ones as they arrive.

  list [FILTER…] [--instance ID] [--type T] [--limit N] [--json]
  tail [FILTER…] [--instance ID] [--type T] [--json]

FILTER is the events screen's "/" syntax: i:3 (instance), type:contacts
(object type), event:created, source:webhook, id:123 (the vendor's object
id), raw:"Barbara Jones" (inside the payload, any case), n:12 (the events
of notification 12), since:2h, and words that must all occur in the row
(object id, vendor event id, instance name…).
tail follows the eventdesk that holds the database (or --server) and keeps
going across a restart of it; ctrl+c ends it. --json prints one event per
line with its raw payload.`

func runEvents(args []string, env Env) error {
	fs := flags("events", "list|tail [FILTER…] [flags]", eventsUsage, env)
	ef := addEngineFlags(fs, env)
	inst := fs.Int64("instance", 0, "only this instance's events")
	typ := fs.String("type", "", "only this object type (e.g. contacts, deals)")
	limit := fs.Int("limit", 50, "list at most this many")
	asJSON := fs.Bool("json", false, "one JSON object per line, with the raw payload")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "list" && pos[0] != "tail") {
		fs.Usage()
		return errUsage
	}
	if *limit <= 0 {
		return usagef("events", "--limit must be a positive number, got %d", *limit)
	}
	q := ui.ParseEventQuery(strings.Join(pos[1:], " "))
	f := q.Filter()
	if *inst != 0 {
		f.InstanceID = *inst
	}
	if *typ != "" {
		f.ObjectType = *typ
	}
	q.SetFilter(f)
	b, err := ef.open(env, readOnly)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx, cancel := signal.NotifyContext(env.base(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	names := map[int64]string{}
	if list, err := b.Instances(ctx); err == nil {
		for _, in := range list {
			names[in.ID] = in.Name
		}
	}
	label := func(id int64) string { return "#" + strconv.FormatInt(id, 10) + " " + names[id] }
	out := newEventPrinter(env, *asJSON, label)
	if pos[0] == "list" {
		return listEvents(ctx, b, q, *limit, out, label)
	}
	return tailEvents(ctx, b, q, out, label, env)
}

// listEvents pages newest first until limit matches or the end.
func listEvents(ctx context.Context, b backend.Backend, q ui.EventQuery, limit int, out *eventPrinter, label func(int64) string) error {
	if q.Notification() != "" {
		evs, err := ui.NotificationEvents(b, q, label, limit)
		if err != nil {
			return err
		}
		for _, e := range evs {
			out.print(e)
		}
		if len(evs) == 0 && !out.json {
			fmt.Fprintln(out.env.Stderr, "no events match")
		}
		return out.flush()
	}
	f := q.Filter()
	n := 0
	for n < limit {
		evs, next, err := b.Events(ctx, f, 500)
		if err != nil {
			return err
		}
		for i := range evs {
			if q.Match(&evs[i], label(evs[i].InstanceID)) {
				out.print(evs[i])
				if n++; n == limit {
					break
				}
			}
		}
		if next == 0 {
			break
		}
		f.Before = next
	}
	if n == 0 && !out.json {
		fmt.Fprintln(out.env.Stderr, "no events match")
	}
	return out.flush()
}

// tailEvents prints events newer than the newest at start, as the
// engine's change signal says they come; after a reconnect it reads what
// came meanwhile, so nothing is skipped or printed twice.
func tailEvents(ctx context.Context, b backend.Backend, q ui.EventQuery, out *eventPrinter, label func(int64) string, env Env) error {
	last, err := b.LastEventID(ctx)
	if err != nil {
		return err
	}
	sub, err := b.Subscribe(ctx)
	if err != nil {
		return err
	}
	defer sub.Close()
	link := sub.Link()
	down := false
	for {
		for {
			evs, err := b.EventsAfter(ctx, last, 500)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				break // the link will say; the next signal retries
			}
			for i := range evs {
				last = evs[i].Seq()
				if q.Match(&evs[i], label(evs[i].InstanceID)) {
					out.print(evs[i])
				}
			}
			if err := out.flush(); err != nil {
				return err
			}
			if len(evs) < 500 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-sub.C():
			if !ok {
				return ctx.Err()
			}
		case st, ok := <-link:
			if !ok {
				link = nil
				continue
			}
			if !st.Connected && !down {
				down = true
				fmt.Fprintf(env.Stderr, "eventdesk: disconnected · retrying (%v)\n", st.Err)
			} else if st.Connected && down {
				down = false
				fmt.Fprintln(env.Stderr, "eventdesk: reconnected")
			}
		}
	}
}

// eventPrinter writes events as table rows or JSON lines.
type eventPrinter struct {
	env   Env
	json  bool
	enc   *json.Encoder
	tw    *tabwriter.Writer
	label func(int64) string
}

func newEventPrinter(env Env, asJSON bool, label func(int64) string) *eventPrinter {
	p := &eventPrinter{env: env, json: asJSON, label: label}
	if asJSON {
		p.enc = json.NewEncoder(env.Stdout)
		p.enc.SetEscapeHTML(false)
	} else {
		p.tw = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	}
	return p
}

func (p *eventPrinter) print(e model.Event) {
	if p.json {
		_ = p.enc.Encode(e)
		return
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ReceivedAt.Local().Format(time.DateTime), e.ID, p.label(e.InstanceID), e.Source, e.ObjectType, e.EventType, e.ObjectID)
}

func (p *eventPrinter) flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}
