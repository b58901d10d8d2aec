package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
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

// connectTimeout bounds each connection attempt to PostgreSQL when the URL
// does not say (connect_timeout): a mistyped or unreachable host must fail
// with a clear error, not hang a command until the kernel gives up.
const connectTimeout = 15 * time.Second

// IsDatabaseURL reports whether location names a PostgreSQL database
// (postgres:// or postgresql://) rather than a bbolt file.
func IsDatabaseURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// OpenStore opens the store at location, the one place that chooses a
// store: a postgres:// (or postgresql://) URL opens that PostgreSQL
// database, anything else is a bbolt database file's path. An error wraps
// the store's own, so errors.As still finds a *store.LockedError; it never
// shows the URL's password.
func OpenStore(ctx context.Context, location string) (Store, error) {
	if location == "" {
		return nil, errors.New("no store given: name a database file or a postgres:// URL")
	}
	if IsDatabaseURL(location) {
		st, err := postgres.Open(ctx, location, postgres.WithConnectTimeout(connectTimeout))
		if err != nil {
			// postgres.Open masks the URL it names; pgx's own errors name
			// the host and user only. Masking again guards against a
			// driver message that quotes the URL.
			return nil, maskedError{err: err, raw: location}
		}
		return st, nil
	}
	st, err := store.Open(location, store.Options{})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// maskedError is an error whose text never shows the password of the
// URL raw, while errors.Is and errors.As still see the error it wraps.
type maskedError struct {
	err error
	raw string
}

func (e maskedError) Error() string { return postgres.MaskSecret(e.err.Error(), e.raw) }
func (e maskedError) Unwrap() error { return e.err }
