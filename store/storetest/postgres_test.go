package storetest_test

import (
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
	"github.com/eventdesk/eventdesk/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestPostgres(t *testing.T) {
	srv := pgtest.Shared(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		s, err := postgres.Open(t.Context(), srv.NewDatabase(t), postgres.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
