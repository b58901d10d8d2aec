package cli

import (
	"bufio"
	"errors"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// These tests run the built eventdesk binary: signals, terminals and exit
// codes are the process's, which an in-process Run cannot show.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// eventdeskBinary builds eventdesk once per test process (race-enabled when
// the test is) and returns its path.
func eventdeskBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eventdesk-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "eventdesk")
		args := []string{"build", "-o", binPath}
		if raceEnabled() {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
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

// TestMain removes the binary built for the tests and stops the
// PostgreSQL server started for them.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is a running eventdesk binary whose stdout is read line by line.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
	mu     *sync.Mutex
	exited chan struct{}
	state  *os.ProcessState
}

// startBinary runs eventdesk with args, XDG_DATA_HOME inside dir and no
// terminal on any standard stream.
func startBinary(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(eventdeskBinary(t), args...)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "xdg"), "EVENTDESK_DB=")
	cmd.Stdin = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 1024), stderr: &strings.Builder{}, mu: &sync.Mutex{}, exited: make(chan struct{})}
	cmd.Stderr = lockedWriter{p.mu, p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLine returns the first stdout line containing s.
func (p *proc) waitLine(s string, within time.Duration) string {
	p.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("eventdesk ended before printing %q; stderr:\n%s", s, p.stderrText())
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			p.t.Fatalf("no line with %q within %v; stderr:\n%s", s, within, p.stderrText())
		}
	}
}

// wait returns the exit code once the process ended.
func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		p.t.Fatalf("eventdesk still running after %v; stderr:\n%s", within, p.stderrText())
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.t.Fatalf("eventdesk was killed by %v; stderr:\n%s", ws.Signal(), p.stderrText())
	}
	return p.state.ExitCode()
}

// waitFile polls for path until it exists.
func waitFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SIGHUP (a closed SSH session) stops serve as SIGTERM does: a request in
// flight is answered and its work kept, the process exits 0 and withdraws
// the .engine file. It used to kill the process at once (exit 129), with
// requests committed but never answered.
func TestServeStopsGracefullyOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ed.db")
	p := startBinary(t, dir, "serve", "--db", db, "--listen", "127.0.0.1:0")
	waitFile(t, engine.RuntimePath(db), 60*time.Second)
	rt, err := engine.ReadRuntime(db)
	if err != nil {
		t.Fatal(err)
	}
	// A create request whose handler waits for its body when the signal
	// comes: "100 Continue" says the handler has started reading it.
	seed, err := os.ReadFile(fixture("seeds/pipedrive-polling.json"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(rt.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /elements/api-v2/instances HTTP/1.1\r\nHost: x\r\nAuthorization: User %s, Organization %s\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", rt.User, rt.Organization, len(seed))
	rd := bufio.NewReader(conn)
	if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if line, err := rd.ReadString('\n'); err != nil || line != "\r\n" {
		t.Fatalf("100 Continue not followed by an empty line: %q %v", line, err)
	}
	half := len(seed) / 2
	if _, err := conn.Write(seed[:half]); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderrText(), "stopping") {
		if time.Now().After(deadline) {
			t.Fatalf("no graceful stop after SIGHUP; stderr:\n%s", p.stderrText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := conn.Write(seed[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v; stderr:\n%s", err, p.stderrText())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the request in flight got %s, want 200", resp.Status)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGHUP, want 0; stderr:\n%s", code, p.stderrText())
	}
	if _, err := os.Stat(engine.RuntimePath(db)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".engine left behind after SIGHUP: %v", err)
	}
	if got := storedInstances(t, db); len(got) != 1 {
		t.Errorf("%d instances stored, want the one created while stopping", len(got))
	}
}

// demo --serve stops on SIGHUP the same way.
func TestDemoServeStopsGracefullyOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	p := startBinary(t, dir, "demo", "--serve", "--db", db)
	p.waitLine("Watch:", 60*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGHUP, want 0; stderr:\n%s", code, p.stderrText())
	}
	if _, err := os.Stat(engine.RuntimePath(db)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".engine left behind after SIGHUP: %v", err)
	}
}

// The Watch: line of demo --serve is a command that works as printed: it
// carries the real Authorization header (it had a placeholder).
func TestDemoServeWatchLineWorks(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, dir, "demo", "--serve", "--db", filepath.Join(dir, "demo.db"))
	header := strings.TrimPrefix(p.waitLine("API header: ", 60*time.Second), "API header: ")
	watch := p.waitLine("Watch:", 10*time.Second)
	m := regexp.MustCompile(`^Watch: curl -N -H '([^']*)' (\S+)`).FindStringSubmatch(watch)
	if m == nil {
		t.Fatalf("Watch line is not a curl command: %q", watch)
	}
	if m[1] != header || !strings.HasPrefix(m[1], "Authorization: User ") || strings.Contains(m[1], "…") {
		t.Fatalf("Watch line header %q, want the API header printed above, %q", m[1], header)
	}
	name, value, _ := strings.Cut(m[1], ": ")
	req, err := http.NewRequest(http.MethodGet, m[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(name, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("the Watch command answers %s (%s), want 200 text/event-stream", resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderrText())
	}
}

// Started without a terminal (a cron job, a pipe, a service unit), the
// console says what to run instead and exits before starting anything; it
// used to fail inside Bubble Tea with the terminal left in the alternate
// screen and the mouse on.
func TestConsoleWithoutTerminal(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		instead string
	}{
		{nil, "use `eventdesk serve`"},
		{[]string{"--listen", "127.0.0.1:0"}, "use `eventdesk serve`"},
		{[]string{"demo"}, "use `eventdesk demo --serve`"},
	} {
		dir := t.TempDir()
		db := filepath.Join(dir, "ed.db")
		args := tc.args
		if len(args) == 0 || args[0] != "demo" {
			args = append(args, "--db", db)
		} else {
			args = append(args, "--db", filepath.Join(dir, "demo.db"))
		}
		p := startBinary(t, dir, args...)
		code := p.wait(30 * time.Second)
		var out []string
		for l := range p.lines {
			out = append(out, l)
		}
		stderr := p.stderrText()
		if code != 1 || !strings.Contains(stderr, "the console needs a terminal; "+tc.instead) {
			t.Errorf("%v without a terminal: exit %d stderr %q, want 1 and %q", tc.args, code, stderr, tc.instead)
		}
		if len(out) > 0 || strings.Contains(stderr, "\x1b[") {
			t.Errorf("%v without a terminal wrote escape sequences or output: stdout %q stderr %q", tc.args, out, stderr)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v without a terminal opened the database: %v", tc.args, err)
		}
	}
}
