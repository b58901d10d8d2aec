package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestEachTestGetsAnEmptyDatabase(t *testing.T) {
	for range 2 {
		u := pgtest.URL(t)
		conn, err := pgx.Connect(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("fresh database has %d tables", n)
		}
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		conn.Close(context.Background())
	}
}

func TestStopAndStart(t *testing.T) {
	srv := pgtest.NewServer(t)
	u := srv.NewDatabase(t)
	ping := func() error {
		conn, err := pgx.Connect(t.Context(), u)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		return conn.Ping(t.Context())
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	if err := ping(); err == nil {
		t.Fatal("connected to a stopped server")
	}
	srv.Start(t)
	if err := ping(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestWithoutBinariesTheMessageSaysHowToInstall(t *testing.T) {
	t.Setenv(pgtest.EnvURL, "")
	t.Setenv(pgtest.EnvBin, t.TempDir())
	err := pgtest.Available()
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("Available() = %v, want a message saying apt-get install -y postgresql", err)
	}
}
