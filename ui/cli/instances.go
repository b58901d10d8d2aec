package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

const instancesUsage = `Work on element instances in the database directly (stop a running
eventdesk first: one process owns the file).

  list              one line per instance
  show ID           the instance as JSON, secrets masked
  create -f FILE    create from an instance.json file (comments and trailing
                    commas allowed; '-' reads standard input)
  delete ID         delete the instance`

func runInstances(args []string, env Env) error {
	fs := flags("instances", "list | show ID | create -f FILE | delete ID [flags]", instancesUsage, env)
	db := dbFlag(fs, env)
	file := fs.String("f", "", "instance.json file for create ('-' for standard input)")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	verb, rest := pos[0], pos[1:]
	want := map[string]int{"list": 0, "show": 1, "create": 0, "delete": 1}
	n, ok := want[verb]
	if !ok {
		return usagef("instances", "instances: unknown action %q (use list, show, create or delete)", verb)
	}
	if len(rest) != n {
		if n == 0 {
			return usagef("instances", "instances %s takes no arguments, got %q", verb, strings.Join(rest, " "))
		}
		return usagef("instances", "instances %s needs exactly one instance id", verb)
	}
	if verb == "create" && *file == "" {
		return usagef("instances", "instances create needs -f FILE (an instance.json, as in the seeds)")
	}
	var newIn model.Instance
	if verb == "create" {
		// Read and validate the file before touching the database, so a bad
		// file neither waits for a busy database nor creates an empty one.
		req, err := readInstanceFile(*file, env)
		if err != nil {
			return err
		}
		if newIn, err = model.NewInstance(req, time.Now().UTC()); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch verb {
	case "list":
		return listInstances(st, env)
	case "create":
		in, err := st.CreateInstance(newIn)
		if err != nil {
			return err
		}
		return printJSON(env, provider.NewInstanceJSON(in, publicURL(st), true))
	}
	id, err := instanceID("instances", rest[0])
	if err != nil {
		return err
	}
	if verb == "show" {
		in, err := st.Instance(id)
		if err != nil {
			return err
		}
		return printJSON(env, provider.NewInstanceJSON(in, publicURL(st), false))
	}
	if err := st.DeleteInstance(id); err != nil {
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

func listInstances(st *store.Store, env Env) error {
	all, err := st.Instances()
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

// publicURL is the stored public URL, as the running listener would use it.
func publicURL(st *store.Store) string {
	if v, _, _ := st.Setting(store.SettingPublicURL); v != "" {
		return v
	}
	listen, _, _ := st.Setting(store.SettingListen)
	if listen == "" {
		listen = engine.DefaultListen
	}
	return "http://" + listen
}
