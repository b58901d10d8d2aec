package postgres_test

import (
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store/postgres"
)

// The engine can run on the PostgreSQL store: it offers every role the
// engine's users declare.
var _ engine.Store = (*postgres.Store)(nil)
