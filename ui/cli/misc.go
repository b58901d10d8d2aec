package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

func runWebhookURL(args []string, env Env) error {
	fs := flags("webhook-url", "ID [flags]", "Print the URL a vendor should post webhooks to for instance ID:\n{public URL}/elements/api-v2/events/{elementKey}/{base64 id}", env)
	db := dbFlag(fs, env)
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
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("secrets", "secrets takes no arguments, got %q", strings.Join(pos, " "))
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

const backupUsage = `Write a consistent copy of the database to FILE (mode 0600; written to a
temporary file and renamed, so FILE never holds half a copy).

While serve or the console has the database open, the copy comes from
that running eventdesk (a hot backup through its API, found through the
.engine file it keeps next to the database); otherwise the file is read
directly.`

func runBackup(args []string, env Env) error {
	fs := flags("backup", "FILE [flags]", backupUsage, env)
	db := dbFlag(fs, env)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup", "backup needs exactly one destination file")
	}
	st, err := openStore(*db)
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return hotBackup(locked.Path, pos[0], err, env)
	}
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

// hotBackup fetches the copy from the engine that holds the database.
func hotBackup(dbPath, dest string, locked error, env Env) error {
	rt, err := engine.ReadRuntime(dbPath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w; no running engine announced itself in %s, so stop the other process and try again", locked, engine.RuntimePath(dbPath))
	}
	if err != nil {
		return err
	}
	// A file left by a crashed engine names a port someone else may hold
	// now: the API secrets go only to a process that is still there.
	if rt.PID <= 0 || syscall.Kill(rt.PID, 0) == syscall.ESRCH {
		return fmt.Errorf("%w; %s names process %d, which is gone, so stop the other process and try again", locked, engine.RuntimePath(dbPath), rt.PID)
	}
	url := rt.URL + "/elements/api-v2/backup"
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("backup from the running eventdesk: %w", err)
	}
	req.Header.Set("Authorization", "User "+rt.User+", Organization "+rt.Organization)
	resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("the database is in use by eventdesk (pid %d), which could not be reached at %s: %w", rt.PID, rt.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		var apiErr struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(msg, &apiErr) == nil && apiErr.Message != "" {
			msg = []byte(apiErr.Message)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			return fmt.Errorf("the running eventdesk (pid %d) is already sending a backup, one at a time; run backup again when it has finished", rt.PID)
		}
		return fmt.Errorf("backup from the running eventdesk (pid %d) at %s: %s: %s", rt.PID, rt.URL, resp.Status, bytes.TrimSpace(msg))
	}
	n, err := store.SaveBackup(dest, resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes), a hot copy from the running eventdesk (pid %d)\n", dest, n, rt.PID)
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
