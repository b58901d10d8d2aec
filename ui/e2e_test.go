package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestE2EConsoleInTmux drives the real eventdesk binary in a real terminal
// (a detached tmux session on a private socket): create an instance with the
// form, copy its webhook URL through OSC 52 into tmux's paste buffer, post a
// Pipedrive v2 webhook to that URL, watch the event in the live feed, quit.
func TestE2EConsoleInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("end-to-end test: tmux is not on PATH")
	}
	start := time.Now()
	root := moduleRoot(t)
	dir := t.TempDir()
	bin := buildBinary(t, root, dir)
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))

	port := freePort(t)
	term := startConsole(t, bin, dir, port)

	// Home screen, empty.
	term.waitScreen("No instances yet.", 20*time.Second)

	// The form: n, choose pipedrive, name and API token, ctrl+s.
	term.keys("n")
	term.waitScreen("New instance", 10*time.Second)
	chosen := regexp.MustCompile(`New instance  (\S+) · required fields`)
	for i := 0; ; i++ {
		el := chosen.FindStringSubmatch(term.capture())
		if el != nil && el[1] == "Pipedrive" {
			break
		}
		if i == 4 {
			term.fatalf("the element picker never offered Pipedrive")
		}
		term.keys("Right")
		term.waitFor("the element picker to move", 10*time.Second, func(s string) bool {
			now := chosen.FindStringSubmatch(s)
			return now != nil && (el == nil || now[1] != el[1])
		})
	}
	term.keys("Tab")
	term.text("E2E Pipedrive")
	term.waitScreen("E2E Pipedrive", 10*time.Second)
	term.keys("Tab", "Tab") // tags, then API token: pipedrive needs it, or email and password
	term.waitScreen("API token", 5*time.Second)
	term.text("e2e-token")
	term.keys("C-s")
	term.waitMatch(regexp.MustCompile(`(?m)^▸?\s+1 E2E Pipedrive\s+pipedrive\s`), 10*time.Second)
	term.waitScreen("created instance #1 E2E Pipedrive", 5*time.Second)

	// y copies the webhook URL with OSC 52; tmux (set-clipboard on) keeps
	// it in its paste buffer.
	wantURL := fmt.Sprintf("http://127.0.0.1:%d/elements/api-v2/events/pipedrive/MQ==", port)
	term.keys("y")
	copied := term.waitBuffer(wantURL, 10*time.Second)
	term.waitScreen("copied webhook URL: "+wantURL, 5*time.Second)

	// The vendor posts to the copied URL.
	postWebhook(t, term, copied, filepath.Join(root, "testdata", "webhooks", "pipedrive-v2-update-person.json"))

	// :events opens the live feed with the stored event.
	term.keys(":")
	term.text("events")
	term.keys("Enter")
	term.waitScreen("Instances › Events", 10*time.Second)
	term.waitMatch(regexp.MustCompile(`#1 E2E Pipedrive\s+webhook\s+contacts\s+UPDATED\s+8\s`), 10*time.Second)

	// While the feed is open, a new webhook shows up on its own.
	postWebhook(t, term, copied, filepath.Join(root, "testdata", "webhooks", "pipedrive-v2-delete-deal.json"))
	term.waitMatch(regexp.MustCompile(`#1 E2E Pipedrive\s+webhook\s+opportunities\s+DELETED\s+8\s`), 10*time.Second)

	// o and a digit sort by a column, O turns the sort round, in a real
	// terminal too (O is also the start of some escape sequences).
	term.keys("o")
	term.waitScreen("Sort events by", 5*time.Second)
	term.text("4")
	term.waitScreen("sorted by object type ↑", 5*time.Second)
	term.waitMatch(regexp.MustCompile(`(?s)\scontacts\s.*\sopportunities\s`), 5*time.Second)
	term.text("O")
	term.waitScreen("sorted by object type ↓", 5*time.Second)
	term.waitMatch(regexp.MustCompile(`(?s)\sopportunities\s.*\scontacts\s`), 5*time.Second)

	// esc back home, q quits; the process ends cleanly and so does the
	// terminal session.
	term.keys("Escape")
	term.waitMatch(regexp.MustCompile(`(?m)^ Instances\s*$`), 10*time.Second)
	term.keys("q")
	code := term.waitExit(20 * time.Second)
	if code != "0" {
		term.fatalf("eventdesk exited with status %s, want 0", code)
	}
	term.waitSessionGone(10 * time.Second)
	t.Logf("end to end in %v", time.Since(start).Round(time.Millisecond))
}

// moduleRoot walks up from the package directory to go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			t.Fatal("go.mod not found above the test's directory")
		}
		d = up
	}
}

// buildBinary builds eventdesk once into dir; a race-enabled test builds a
// race-enabled binary, so -race also checks the console in a real terminal.
func buildBinary(t *testing.T, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "eventdesk")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// freePort asks the kernel for a free port and lets it go again.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tmuxTerm is one detached tmux session on a private server.
type tmuxTerm struct {
	t        *testing.T
	sock     string
	dir      string
	exitFile string
	errFile  string
	sockPath string
}

const session = "e2e"

func startConsole(t *testing.T, bin, dir string, port int) *tmuxTerm {
	t.Helper()
	return startTerm(t, bin, dir, "--db", filepath.Join(dir, "ed.db"), "--listen", fmt.Sprintf("127.0.0.1:%d", port))
}

// startTerm runs bin with args in a 100×30 tmux session, with
// XDG_DATA_HOME in dir/data so nothing touches the user's data.
func startTerm(t *testing.T, bin, dir string, args ...string) *tmuxTerm {
	t.Helper()
	term := &tmuxTerm{
		t:        t,
		sock:     fmt.Sprintf("eventdesk-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()),
		dir:      dir,
		exitFile: filepath.Join(dir, "exit"),
		errFile:  filepath.Join(dir, "stderr"),
	}
	t.Cleanup(func() {
		// Ends the console too (SIGHUP) if the test stopped half way.
		_, _ = term.tmux("kill-server")
		// tmux leaves its socket file behind when the server exits.
		if term.sockPath != "" {
			_ = os.Remove(term.sockPath)
		}
	})
	// The shell records the exit status, so a clean quit can be told from
	// a crash; stderr goes to a file for the failure dump.
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shq(a)
	}
	run := fmt.Sprintf("XDG_DATA_HOME=%s TERM=xterm-256color GORACE='halt_on_error=1 exitcode=66' %s %s 2>%s; echo $? >%s",
		shq(filepath.Join(dir, "data")), shq(bin), strings.Join(quoted, " "), shq(term.errFile), shq(term.exitFile))
	// One tmux invocation: the clipboard option is on before the console
	// starts, and sh runs the command whatever $SHELL is.
	if out, err := term.tmux("start-server", ";",
		"set-option", "-s", "set-clipboard", "on", ";",
		"set-option", "-g", "default-shell", "/bin/sh", ";",
		"new-session", "-d", "-s", session, "-x", "100", "-y", "30", run); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	if out, err := term.tmux("display-message", "-p", "#{socket_path}"); err == nil {
		term.sockPath = strings.TrimSpace(out)
	}
	return term
}

// shq quotes s for sh.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (m *tmuxTerm) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", m.sock, "-f", "/dev/null"}, args...)...)
	env := []string{"TERM=xterm-256color"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_PANE=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// keys sends tmux key names (Enter, Escape, C-s, Right…).
func (m *tmuxTerm) keys(keys ...string) {
	m.t.Helper()
	if out, err := m.tmux(append([]string{"send-keys", "-t", session}, keys...)...); err != nil {
		m.fatalf("send-keys %q: %v %s", keys, err, out)
	}
}

// text types s literally.
func (m *tmuxTerm) text(s string) {
	m.t.Helper()
	if out, err := m.tmux("send-keys", "-t", session, "-l", s); err != nil {
		m.fatalf("send-keys -l %q: %v %s", s, err, out)
	}
}

func (m *tmuxTerm) capture() string {
	out, err := m.tmux("capture-pane", "-p", "-t", session)
	if err != nil {
		return "(capture-pane failed: " + err.Error() + " " + out + ")"
	}
	return out
}

// waitFor re-captures the screen every 100 ms until ok holds or the
// deadline passes, then fails with the screen.
func (m *tmuxTerm) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := m.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			m.fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *tmuxTerm) waitScreen(contains string, timeout time.Duration) {
	m.t.Helper()
	m.waitFor(fmt.Sprintf("%q on screen", contains), timeout, func(s string) bool { return strings.Contains(s, contains) })
}

func (m *tmuxTerm) waitMatch(re *regexp.Regexp, timeout time.Duration) {
	m.t.Helper()
	m.waitFor(fmt.Sprintf("/%s/ on screen", re), timeout, re.MatchString)
}

// waitBuffer waits for tmux's newest paste buffer to hold want.
func (m *tmuxTerm) waitBuffer(want string, timeout time.Duration) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		out, err := m.tmux("show-buffer")
		if err == nil {
			last = out
			if strings.TrimSpace(out) == want {
				return want
			}
		}
		if time.Now().After(deadline) {
			m.fatalf("waited %v for the paste buffer to hold %q; it holds %q", timeout, want, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExit waits for the pane's shell to record eventdesk's exit status.
func (m *tmuxTerm) waitExit(timeout time.Duration) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(m.exitFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			m.fatalf("eventdesk did not exit within %v of quitting", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSessionGone waits for the terminal session to end with its only pane.
func (m *tmuxTerm) waitSessionGone(timeout time.Duration) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := m.tmux("has-session", "-t", session); err != nil {
			return
		}
		if time.Now().After(deadline) {
			m.fatalf("the tmux session still exists %v after eventdesk exited", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fatalf fails with the screen, eventdesk's stderr and its log's tail.
func (m *tmuxTerm) fatalf(format string, args ...any) {
	m.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	b.WriteString("\n--- screen ---\n" + m.capture())
	if e, err := os.ReadFile(m.errFile); err == nil && len(e) > 0 {
		b.WriteString("--- eventdesk stderr ---\n" + string(e))
	}
	if e, err := os.ReadFile(m.exitFile); err == nil {
		b.WriteString("--- exit status: " + string(e))
	}
	if l, err := os.ReadFile(filepath.Join(m.dir, "eventdesk.log")); err == nil {
		lines := strings.Split(strings.TrimSpace(string(l)), "\n")
		b.WriteString("--- eventdesk.log (tail) ---\n" + strings.Join(lines[max(0, len(lines)-20):], "\n"))
	}
	m.t.Fatal(b.String())
}

// postWebhook posts a vendor body to the webhook URL and expects it stored.
func postWebhook(t *testing.T, term *tmuxTerm, url, file string) {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		term.fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		term.fatalf("POST %s: reading the answer: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		term.fatalf("POST %s: status %d, want 200: %s", url, resp.StatusCode, answer)
	}
	var got struct {
		Stored   int      `json:"stored"`
		EventIDs []string `json:"eventIds"`
	}
	if err := json.Unmarshal(answer, &got); err != nil || got.Stored != 1 || len(got.EventIDs) != 1 {
		term.fatalf("POST %s: answer %s, want one stored event (%v)", url, answer, err)
	}
}

// TestE2EDemoInTmux runs `eventdesk demo` in a real terminal: within ten
// seconds of its start the live feed shows events from polling and from
// webhooks, delivered notifications appear, then a dead one (the demo's
// flaky receiver), and replaying it delivers it.
func TestE2EDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("end-to-end test: tmux is not on PATH")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	bin := buildBinary(t, root, dir)

	start := time.Now()
	term := startTerm(t, bin, dir, "demo", "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--every", "1s")
	within10s := func() time.Duration { return max(time.Until(start.Add(10*time.Second)), 0) }

	term.waitScreen("DEMO", within10s())
	term.waitMatch(regexp.MustCompile(`4 Demo Close \(webhooks\)\s+closeio\s+webhook`), within10s())
	term.keys(":")
	term.text("events")
	term.keys("Enter")
	term.waitScreen("Instances › Events", within10s())
	term.waitMatch(regexp.MustCompile(`#\d Demo \S+ \(\S+\s+polling\s`), within10s())
	term.waitMatch(regexp.MustCompile(`#\d Demo \S+ \(\S+\s+webhook\s`), within10s())
	t.Logf("events from polling and webhooks after %v", time.Since(start).Round(time.Millisecond))
	term.waitMatch(regexp.MustCompile(`(?m)\sdelivered\s*$`), 20*time.Second)

	// The deliveries screen, dead view: the flaky receiver's third
	// notification fails every attempt of the demo's retry policy.
	term.keys(":")
	term.text("deliveries")
	term.keys("Enter")
	term.waitScreen("Instances › Deliveries", 10*time.Second)
	for range 3 { // all → pending → failing → dead
		term.keys("s")
	}
	term.waitScreen("[dead]", 10*time.Second)
	dead := regexp.MustCompile(`(?m)^▸?\s+(\d+) #2 Demo Pipedrive .*\sdead\s`)
	screen := term.waitFor("a dead notification", 60*time.Second, dead.MatchString)
	id := dead.FindStringSubmatch(screen)[1]
	t.Logf("notification %s dead after %v", id, time.Since(start).Round(time.Millisecond))

	term.keys("r")
	term.waitScreen("notification "+id+" of #2 is pending again", 10*time.Second)
	term.keys("s") // dead → all
	term.waitScreen("[all]", 10*time.Second)
	term.waitMatch(regexp.MustCompile(`(?m)^▸?\s+`+id+` #2 Demo Pipedrive .*\sdelivered\s`), 20*time.Second)

	term.keys("C-c")
	if code := term.waitExit(20 * time.Second); code != "0" {
		term.fatalf("eventdesk demo exited with status %s, want 0", code)
	}
}
