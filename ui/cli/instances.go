package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/backend"
)

const instancesUsage = `Work on element instances: through the running eventdesk that holds the
database (attached over loopback), a remote one (--server, --context), or
the database file directly when nothing holds it.

  list              one line per instance
  show ID           the instance as JSON, secrets masked
  create -f FILE    create from an instance.json file (comments and trailing
                    commas allowed; '-' reads standard input)
  delete ID         delete the instance`

func runInstances(args []string, env Env) error {
	fs := flags("instances", "list | show ID | create -f FILE | delete ID [flags]", instancesUsage, env)
	ef := addEngineFlags(fs, env)
	file := fs.String("f", "", "instance.json file for create ('-' for standard input)")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	verb, rest, err := action("instances", pos, []actionArity{{"list", 0}, {"show", 1}, {"create", 0}, {"delete", 1}}, "instance id")
	if err != nil {
		return err
	}
	if verb == "create" && *file == "" {
		return usagef("instances", "instances create needs -f FILE (an instance.json, as in the seeds)")
	}
	var req model.InstanceRequest
	if verb == "create" {
		// Read and validate the file before touching the database, so a bad
		// file neither waits for a busy database nor creates an empty one.
		if req, err = readInstanceFile(*file, env); err != nil {
			return err
		}
		if _, err = model.NewInstance(req, time.Now().UTC()); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	var id int64
	if len(rest) == 1 {
		if id, err = instanceID("instances", rest[0]); err != nil {
			return err
		}
	}
	acc := readOnly
	if verb == "create" || verb == "delete" {
		acc = readWrite
	}
	b, err := ef.open(env, acc)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := context.Background()
	info, err := b.Info(ctx)
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		return listInstances(ctx, b, env)
	case "create":
		in, err := b.CreateInstance(ctx, req)
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		return printJSON(env, provider.NewInstanceJSON(in, info.PublicURL, true))
	case "show":
		in, err := b.Instance(ctx, id)
		if err != nil {
			return err
		}
		return printJSON(env, provider.NewInstanceJSON(in, info.PublicURL, false))
	}
	if err := b.DeleteInstance(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "deleted instance %d\n", id)
	return nil
}

func readInstanceFile(path string, env Env) (model.InstanceRequest, error) {
	var req model.InstanceRequest
	var data []byte
	var err error
	if path == "-" {
		data, err = readAllLimited(env.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return req, fmt.Errorf("read instance file: %w", err)
	}
	clean := model.StripJSONC(data)
	if err := json.Unmarshal(clean, &req); err != nil {
		return req, fmt.Errorf("%s: %w", path, model.JSONError(clean, err))
	}
	return req, nil
}

func listInstances(ctx context.Context, b backend.Backend, env Env) error {
	all, err := b.Instances(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(env.Stdout, "no instances yet; create one with: eventdesk instances create -f instance.json")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tELEMENT\tEVENTS\tCALLBACK")
	for _, in := range all {
		events := "off"
		if in.EventsEnabled() {
			events = in.VendorType()
		}
		cb := in.CallbackURL()
		if cb == "" {
			cb = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", in.ID, in.Name, in.ElementKey, events, cb)
	}
	return tw.Flush()
}

func printJSON(env Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
