package cli

import (
	"fmt"
	"io"

	"github.com/eventdesk/eventdesk/model"
)

func runWebhookURL(args []string, env Env) error {
	fs := flags("webhook-url", "ID [flags]", "Print the URL a vendor should post webhooks to for instance ID:\n{public URL}/elements/api-v2/events/{elementKey}/{base64 id}", env)
	db := dbFlag(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("webhook-url needs exactly one instance id")
	}
	id, err := instanceID(pos[0])
	if err != nil {
		return err
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := st.Instance(id)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, model.WebhookURL(publicURL(st), in.ElementKey, in.ID))
	return nil
}

func runSecrets(args []string, env Env) error {
	fs := flags("secrets", "[flags]", "Print the API secrets for 'Authorization: User <user>, Organization <org>'.\nThey are generated on first use and stored in the database.", env)
	db := dbFlag(fs, env)
	if _, err := parse(fs, args, env); err != nil {
		return err
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	sec, err := st.APISecrets()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "User secret:         %s\nOrganization secret: %s\nHeader:              Authorization: User %s, Organization %s\n",
		sec.User, sec.Organization, sec.User, sec.Organization)
	return nil
}

func runBackup(args []string, env Env) error {
	fs := flags("backup", "FILE [flags]", "Write a consistent copy of the database to FILE (mode 0600).", env)
	db := dbFlag(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("backup needs exactly one destination file")
	}
	st, err := openStore(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Backup(pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes)\n", pos[0], n)
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
