// Package pgtest gives tests a real PostgreSQL: a throwaway server started
// with initdb and pg_ctl in a temporary directory (as the postgres user when
// running as root), or the server named by EVENTDESK_TEST_POSTGRES. Each
// test gets a database of its own.
//
// Without PostgreSQL binaries the tests that need it skip, saying how to
// install them; with CI=true they fail instead, so a CI run never passes by
// skipping.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables that steer the harness.
const (
	// EnvURL names an existing server (a postgres:// URL of a role that may
	// create databases) to use instead of starting one.
	EnvURL = "EVENTDESK_TEST_POSTGRES"
	// EnvBin is the directory holding initdb and pg_ctl, when they are not
	// in /usr/lib/postgresql/*/bin or on PATH.
	EnvBin = "EVENTDESK_TEST_POSTGRES_BIN"
)

// installHint is what a skipped test says.
const installHint = "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with `apt-get install -y postgresql`, set " +
	EnvBin + " to their directory, or set " + EnvURL + " to a server's URL"

// Server is a PostgreSQL server for tests.
type Server struct {
	// admin is a URL of a role that may create databases.
	admin string
	// durable keeps fsync on (for benchmarks); tests' throwaway data
	// goes without it, which makes creating a database fast.
	durable bool
	// Set only for a server this package started.
	bin, dir, sockDir string
	port              int
	asPostgres        bool
	mu                sync.Mutex
	running           bool
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
	dbSeq      atomic.Int64
)

// Main runs a test package's tests and stops the shared server, if one was
// started, when they are done. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with cleanup of its own: it runs the tests,
// stops the shared server if one was started, and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if shared != nil && shared.dir != "" {
		shared.stop()
		os.RemoveAll(shared.dir)
	}
	return code
}

// Available reports whether a server can be had, and why not.
func Available() error {
	if os.Getenv(EnvURL) != "" {
		return nil
	}
	_, err := findBin()
	return err
}

// unavailable skips tb, or fails it under CI.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL tests cannot run under CI: %v", err)
	}
	tb.Skip(err.Error())
}

// Shared is the test package's server, started on first use (stopped by
// Main).
func Shared(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			shared = &Server{admin: u, running: true}
			return
		}
		bin, err := findBin()
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = start(bin, false)
	})
	if errors.Is(sharedErr, errNoBinaries) {
		unavailable(tb, sharedErr)
	}
	if sharedErr != nil {
		tb.Fatalf("start PostgreSQL: %v", sharedErr)
	}
	return shared
}

// URL creates a fresh database on the shared server for this test and
// returns its URL; the database is dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).NewDatabase(tb)
}

// Option tunes NewServer.
type Option func(*Server)

// Durable keeps fsync on, as a production server has it: for benchmarks.
// Without it the server does not wait for the disk, which suits tests'
// throwaway data and makes creating a database fast.
func Durable() Option { return func(s *Server) { s.durable = true } }

// NewServer starts a server of tb's own, stopped and removed when tb ends:
// for tests that stop and start it, and for benchmarks. It needs the
// binaries (a server named by EVENTDESK_TEST_POSTGRES cannot be stopped
// by a test).
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin, err := findBin()
	if err != nil {
		unavailable(tb, err)
	}
	var durable bool
	for _, o := range opts {
		probe := &Server{}
		o(probe)
		durable = durable || probe.durable
	}
	s, err := start(bin, durable)
	if err != nil {
		tb.Fatalf("start PostgreSQL: %v", err)
	}
	tb.Cleanup(func() {
		s.stop()
		os.RemoveAll(s.dir)
	})
	return s
}

// NewDatabase creates an empty database and returns its URL; it is dropped
// when tb ends.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("eventdesk_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// FILE_COPY (PostgreSQL 15 on) copies the template's files instead of
	// logging them, several times faster for a small template; older
	// servers get the plain statement.
	err := s.exec(ctx, "CREATE DATABASE "+name+" STRATEGY FILE_COPY")
	if err != nil && strings.Contains(err.Error(), "STRATEGY") {
		err = s.exec(ctx, "CREATE DATABASE "+name)
	}
	if err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.mu.Lock()
		running := s.running
		s.mu.Unlock()
		if running {
			_ = s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
	})
	return s.databaseURL(name)
}

// databaseURL is the admin URL with the database replaced.
func (s *Server) databaseURL(name string) string {
	u, err := url.Parse(s.admin)
	if err != nil {
		return s.admin
	}
	u.Path = "/" + name
	return u.String()
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop stops the server (fast shutdown: clients are disconnected), as a
// crash or a maintenance window would; Start brings it back on the same
// address with the same data.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if s.dir == "" {
		tb.Fatal("pgtest: a server named by " + EnvURL + " cannot be stopped by a test")
	}
	if err := s.stop(); err != nil {
		tb.Fatal(err)
	}
}

// Start starts a stopped server again.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if err := s.startServer(); err != nil {
		tb.Fatal(err)
	}
}

// errNoBinaries is findBin's error.
var errNoBinaries = errors.New(installHint)

// findBin finds the directory of initdb and pg_ctl.
func findBin() (string, error) {
	has := func(dir string) bool {
		for _, f := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv(EnvBin); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("%s=%s has no initdb, pg_ctl and postgres: %w", EnvBin, d, errNoBinaries)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest version first.
	slices.SortFunc(dirs, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", errNoBinaries
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// start initialises a data directory and starts a server on a unix socket
// in it (and a free loopback port, for tools that want TCP).
func start(bin string, durable bool) (*Server, error) {
	s := &Server{bin: bin, asPostgres: os.Geteuid() == 0, durable: durable}
	dir, err := os.MkdirTemp("", "eventdesk-pg-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	s.sockDir = dir
	if s.asPostgres {
		// The server refuses to run as root; the postgres user must own
		// its directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	out, err := s.run("initdb", "-D", s.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	if s.port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.admin = fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", url.QueryEscape(s.sockDir), s.port)
	if err := s.startServer(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.watch()
	return s, nil
}

// watch starts a watchdog, outside this process's group, that stops the
// server and removes its directory once this process is gone, should it
// die without cleaning up (a panic, a killed test binary): no server is
// left running after the tests.
func (s *Server) watch() {
	stop := fmt.Sprintf("%q -D %q -m immediate -w stop", filepath.Join(s.bin, "pg_ctl"), s.dataDir())
	if s.asPostgres {
		stop = "runuser -u postgres -- " + stop
	}
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; [ -d %q ] && { %s; rm -rf %q; }; true",
		os.Getpid(), s.dataDir(), stop, s.dir)
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// run runs one of the server's programs, as postgres when root.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

func (s *Server) startServer() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	args := []string{
		"-p", strconv.Itoa(s.port),
		"-k", s.sockDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "shared_buffers=64MB",
	}
	if !s.durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	opts := strings.Join(args, " ")
	out, err := s.run("pg_ctl", "-D", s.dataDir(), "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %w: %s\n%s", err, out, log)
	}
	s.running = true
	return nil
}

func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || s.dir == "" {
		return nil
	}
	out, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "fast", "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	s.running = false
	return nil
}

// Port is the server's loopback TCP port (0 for a server named by URL).
func (s *Server) Port() int { return s.port }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CPUTime is the CPU time the server's processes have used so far (the
// postmaster and its children; Linux only, 0 elsewhere or for a server
// named by URL): with the client's own CPU time, the cost per operation
// that holds still on a busy machine, where wall-clock rates do not.
func (s *Server) CPUTime() time.Duration {
	if s.dir == "" {
		return 0
	}
	pidFile, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	entries, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) in parentheses.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		// f[1] is the parent pid; f[11], f[12] utime and stime.
		if e.Name() != master && f[1] != master {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	// Linux reports clock ticks of 1/100 s (USER_HZ) in /proc.
	return time.Duration(ticks) * 10 * time.Millisecond
}
