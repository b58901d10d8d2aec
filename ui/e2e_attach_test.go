package ui_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// serveProc is `eventdesk serve` running as its own process.
type serveProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startServe runs bin serve on db at addr and waits until it answers.
func startServe(t *testing.T, bin, dir, db, addr string) *serveProc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--db", db, "--listen", addr)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Fatalf("serve did not answer /health at %s: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serveProc) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	<-p.done
}

// TestE2EAttachedConsoleInTmux runs `eventdesk serve`, then the console on
// the same database in a real terminal: it attaches to the running engine
// instead of failing on the lock, follows its events, says it is
// disconnected when the engine is killed (keeping what it shows), and
// catches up by itself when the engine is back.
func TestE2EAttachedConsoleInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("end-to-end test: tmux is not on PATH")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	bin := buildBinary(t, root, dir)
	db := filepath.Join(dir, "ed.db")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	serve := startServe(t, bin, dir, db, addr)

	// A verb next to the running engine works through it.
	inst := filepath.Join(dir, "instance.json")
	if err := os.WriteFile(inst, []byte(`{"element":{"key":"pipedrive"},"name":"E2E attached","configuration":{"pipedrive.api.token":"e2e-token"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	create := exec.Command(bin, "instances", "create", "-f", inst, "--db", db)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("instances create next to serve: %v\n%s", err, out)
	}

	term := startTerm(t, bin, dir, "--db", db)
	term.waitScreen(fmt.Sprintf("attached to serve · pid %d · %s", serve.cmd.Process.Pid, addr), 20*time.Second)
	term.waitScreen("E2E attached", 10*time.Second)

	hook := "http://" + addr + "/elements/api-v2/events/pipedrive/MQ=="
	term.keys(":")
	term.text("events")
	term.keys("Enter")
	term.waitScreen("Instances › Events", 10*time.Second)
	postWebhook(t, term, hook, filepath.Join(root, "testdata", "webhooks", "pipedrive-v2-update-person.json"))
	term.waitMatch(regexp.MustCompile(`#1 E2E attached\s+webhook\s+contacts\s+UPDATED\s+8\s`), 10*time.Second)

	// Kill the engine: the console stays, says so, keeps its rows.
	serve.kill(syscall.SIGKILL)
	term.waitScreen("disconnected · retrying", 10*time.Second)
	term.waitMatch(regexp.MustCompile(`#1 E2E attached\s+webhook\s+contacts\s+UPDATED`), 2*time.Second)

	// The engine comes back on the same address: the console reconnects
	// on its own and shows what arrives.
	serve = startServe(t, bin, dir, db, addr)
	term.waitScreen(fmt.Sprintf("attached to serve · pid %d · %s", serve.cmd.Process.Pid, addr), 20*time.Second)
	postWebhook(t, term, hook, filepath.Join(root, "testdata", "webhooks", "pipedrive-v2-delete-deal.json"))
	term.waitMatch(regexp.MustCompile(`#1 E2E attached\s+webhook\s+opportunities\s+DELETED\s+8\s`), 10*time.Second)

	// A search in the payloads goes through the engine's API too.
	term.keys("/")
	term.text(`raw:"sample PERSON"`)
	term.keys("Enter")
	term.waitScreen("done · 2 scanned, 1 found", 10*time.Second)
	term.waitMatch(regexp.MustCompile(`#1 E2E attached\s+webhook\s+contacts\s+UPDATED\s+8\s`), 2*time.Second)
	term.keys("Escape") // clears the filter, and the feed follows again
	// Waiting here keeps the next Escape apart: two in a row read as alt+esc.
	term.waitScreen("following · 2 rows", 10*time.Second)

	term.keys("Escape")
	term.waitMatch(regexp.MustCompile(`(?m)^ Instances\s*$`), 10*time.Second)
	term.keys("q")
	if code := term.waitExit(20 * time.Second); code != "0" {
		term.fatalf("eventdesk exited with status %s, want 0", code)
	}
}
