package postgres_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openTest(t *testing.T, url string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMigratesOnceAndRefusesNewerSchema(t *testing.T) {
	url := pgtest.URL(t)
	// Two stores opening together apply the migrations once.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			s, err := postgres.Open(t.Context(), url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != postgres.SchemaVersion() {
		t.Fatalf("%d migrations recorded, want %d", n, postgres.SchemaVersion())
	}
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), url)
	if !errors.Is(err, postgres.ErrNewerSchema) || !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("Open of a newer schema = %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "upgrade eventdesk") {
		t.Errorf("error %q does not say what to do", err)
	}
}

func TestURLMasksThePassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://ed:s3cret@db:5432/ed", "postgres://ed:***@db:5432/ed"},
		{"postgres://db/ed?password=s3cret&sslmode=require", "postgres://db/ed?password=***&sslmode=require"},
		{"postgresql://ed:p%40ss@db/ed", "postgresql://ed:***@db/ed"},
		{"postgres://ed@db/ed", "postgres://ed@db/ed"},
	} {
		if got := postgres.MaskURL(tc.in); got != tc.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBackupSaysToUsePgDump(t *testing.T) {
	s := openTest(t, pgtest.URL(t))
	_, err := s.Backup(t.Context(), "/tmp/x.dump")
	if !errors.Is(err, postgres.ErrBackupUnsupported) || !strings.Contains(err.Error(), "pg_dump -Fc -f /tmp/x.dump") {
		t.Fatalf("Backup = %v", err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// A server that accepts the connection and never answers fails within
// the connect timeout, naming the database with its password masked.
func TestOpenTimesOutOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	go func() {
		defer close(conns)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c // held open, silent, until the test ends
		}
	}()
	defer func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	}()
	url := "postgres://ed:s3cretpw@" + ln.Addr().String() + "/ed?sslmode=disable"
	start := time.Now()
	_, err = postgres.Open(t.Context(), url, postgres.WithConnectTimeout(300*time.Millisecond))
	if err == nil {
		t.Fatal("Open succeeded against a server that never answers")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %v, want about the 300ms connect timeout", took)
	}
	if strings.Contains(err.Error(), "s3cretpw") || !strings.Contains(err.Error(), "ed:***@") {
		t.Errorf("error %q shows the password or does not name the database", err)
	}
}
