package engine

import (
	"context"
	"errors"
	"time"

	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// SettingStore keeps the engine's settings and the API secrets.
type SettingStore interface {
	// Setting is a stored setting; ok is false when it was never set.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	SetSetting(ctx context.Context, key, value string) error
	// APISecrets are the API's secrets, created on first use.
	APISecrets(ctx context.Context) (store.Secrets, error)
}

// Store is everything an engine asks of its store: the roles of the API
// and webhook receiver, the dispatcher, the poll scheduler and the
// metrics, with settings, retention and a health probe. The embedded
// bbolt store is one.
type Store interface {
	provider.Store
	dispatch.Outbox
	poll.SchedulerStore
	metrics.Source
	SettingStore
	// Prune deletes what retention no longer keeps.
	Prune(ctx context.Context, cutoff time.Time) (store.PruneResult, error)
	// Probe makes one durable write, for the readiness check.
	Probe(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// OpenStore opens the store at location, the one place that chooses a
// store: today a bbolt database file's path. An error wraps the store's
// own, so errors.As still finds a *store.LockedError.
func OpenStore(ctx context.Context, location string) (Store, error) {
	if location == "" {
		return nil, errors.New("no store given: name a database file")
	}
	// A postgres:// URL will open the PostgreSQL store here.
	st, err := store.Open(location, store.Options{})
	if err != nil {
		return nil, err
	}
	return st, nil
}
