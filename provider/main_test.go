package provider_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// TestMain stops the PostgreSQL server the replica tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }
