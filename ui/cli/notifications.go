package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

const notificationsUsage = `List or replay callback notifications (through the eventdesk that holds
the database, --server, or the database directly).

  list [--instance ID] [--state pending|failing|delivered|dead] [--limit N]
  replay NOTIFICATION_ID                 put one notification back in line
  replay --instance ID [--since TIME]    replay every dead notification of an
                                         instance (created at or after TIME, RFC 3339)

A replayed notification is delivered by the running eventdesk (or the next
one to start, when the database was used directly).`

func runNotifications(args []string, env Env) error {
	fs := flags("notifications", "list|replay [ID] [flags]", notificationsUsage, env)
	ef := addEngineFlags(fs, env)
	inst := fs.Int64("instance", 0, "instance id")
	state := fs.String("state", "", "list only this state: pending, failing (pending after a failed try), delivered or dead")
	since := fs.String("since", "", "replay dead notifications created at or after this RFC 3339 time")
	limit := fs.Int("limit", 50, "list at most this many (newest first)")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "list" && pos[0] != "replay") {
		fs.Usage()
		return errUsage
	}
	f := model.NotificationFilter{InstanceID: *inst, State: model.NotificationState(*state)}
	if pos[0] == "list" {
		switch f.State {
		case "", model.StatePending, model.StateDelivered, model.StateDead:
		case "failing":
			f.State, f.Failing = model.StatePending, true
		default:
			return usagef("notifications", "--state must be pending, failing, delivered or dead, got %q", *state)
		}
	}
	acc := readWrite
	if pos[0] == "list" {
		acc = readOnly
	}
	b, err := ef.open(env, acc)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := context.Background()
	if pos[0] == "list" {
		list, _, err := b.Notifications(ctx, f, *limit)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(env.Stdout, "no notifications")
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tINSTANCE\tSTATE\tATTEMPTS\tLAST\tEVENTS\tCREATED")
		for _, n := range list {
			last := "-"
			if n.LastStatus != 0 {
				last = strconv.Itoa(n.LastStatus)
			}
			if n.LastError != "" {
				last += " " + n.LastError
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%d\t%s\n", n.ID, n.InstanceID, n.State, n.Attempts, last, len(n.EventIDs), n.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	switch {
	case len(pos) == 2 && *inst == 0:
		n, err := b.Replay(ctx, pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "notification %s of instance %d is pending again\n", n.ID, n.InstanceID)
		return nil
	case len(pos) == 1 && *inst > 0:
		var t time.Time
		if *since != "" {
			if t, err = time.Parse(time.RFC3339Nano, *since); err != nil {
				return usagef("notifications", "--since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", *since)
			}
		}
		ids, err := b.ReplayDead(ctx, *inst, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "replayed %d dead notification(s) of instance %d\n", len(ids), *inst)
		return nil
	}
	return usagef("notifications", "replay takes either one notification id, or --instance ID [--since TIME]")
}
