package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"time"
)

const pollUsage = `Run one poll cycle now for instance ID (all its poller resources, or
--resource R), store the events found, and print them as JSON lines.
A summary per resource goes to stderr. Runs in the eventdesk that holds the
database when one does (or at --server), else on the database directly.
Interrupting it cancels the poll, on a remote engine too.`

func runPoll(args []string, env Env) error {
	fs := flags("poll", "ID [--resource R] [flags]", pollUsage, env)
	ef := addEngineFlags(fs, env)
	resource := fs.String("resource", "", "poll only this resource (e.g. contacts)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("poll", "poll needs exactly one instance id")
	}
	id, err := instanceID("poll", pos[0])
	if err != nil {
		return err
	}
	b, err := ef.open(env, readWrite)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()
	statuses, events, err := b.PollNow(ctx, id, *resource)
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		if werr := enc.Encode(e); werr != nil {
			return werr
		}
	}
	for _, s := range statuses {
		line := fmt.Sprintf("%s: %d page(s), %d record(s), %d event(s)", s.Resource, s.Pages, s.Records, s.Events)
		if s.LastError != "" {
			line += ", error: " + s.LastError
		}
		for _, w := range s.Warnings {
			line += "\n  warning: " + w
		}
		if s.LastURL != "" {
			line += "\n  last request: " + s.LastURL
		}
		fmt.Fprintln(env.Stderr, line)
	}
	return err
}
