// Package postgres keeps eventdesk's state in PostgreSQL, so that several
// eventdesk processes (replicas) can share one deployment. It answers the
// same operations as the bbolt store in package store, with the same
// results and errors, and adds what replicas need to share work: leases on
// polls and ordered delivery lanes, claims on concurrent deliveries, and
// advisory locks for once-only work. Commits are announced with
// LISTEN/NOTIFY, so every Store on the database wakes its subscribers.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors callers tell apart with errors.Is. The bbolt store's sentinels
// (store.ErrNotFound, store.ErrClosed, ...) are returned as they are, so
// callers check one set of errors whichever backend they run on.
var (
	// ErrNewerSchema is Open's error for a database migrated by a newer
	// eventdesk. It matches store.ErrNewerSchema too.
	ErrNewerSchema = fmt.Errorf("%w (PostgreSQL schema)", store.ErrNewerSchema)
	// ErrLeaseLost is a leased write's error when the lease expired or
	// another owner claimed the work since: the caller must stop.
	ErrLeaseLost = store.ErrLeaseLost
	// ErrBackupUnsupported is Backup's error: PostgreSQL is backed up with
	// its own tools.
	ErrBackupUnsupported = errors.New("eventdesk backup does not copy a PostgreSQL store")
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key migrations run under, so two
// processes starting together never apply one twice.
const migrationLock = 0x6576656e746465 // "eventde"

// notifyChannel is the LISTEN/NOTIFY channel commits are announced on.
const notifyChannel = "eventdesk"

// Option tunes Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	clockSet bool
	maxConns int32
	connect  time.Duration
}

// WithClock sets the clock (default time.Now): received times, retry
// times, dedupe expiry and lease expiry are taken from it.
// Without it, lease and claim expiry are read from the database server's
// clock, which every replica shares.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now, o.clockSet = now, true }
}

// WithMaxConns bounds the connection pool (default: pgxpool's, the larger
// of 4 and the number of CPUs); at least 2 are kept, as TryOnce holds one
// while the work it runs uses another. One more connection listens for
// changes.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = int32(max(n, 2)) } }

// WithConnectTimeout bounds each connection attempt, unless the URL sets
// connect_timeout itself.
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connect = d } }

// Store is an open PostgreSQL store.
type Store struct {
	pool   *pgxpool.Pool
	url    string // masked
	rawURL string
	now    func() time.Time
	// serverClock: leases are timed by the database server's clock (no
	// WithClock).
	serverClock bool

	hub      store.Hub
	writer   *groupWriter
	rejected rejectedQueue
	observer commitObserverBox
	listen   *listener

	closeOnce sync.Once
}

// Open connects to the database at url (postgres://…), applies the
// migrations this build has and the database lacks, and starts listening
// for other processes' commits. A database migrated by a newer eventdesk
// is refused with ErrNewerSchema.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL %s: %w", MaskURL(rawURL), err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	if o.connect > 0 && cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = o.connect
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", MaskURL(rawURL), err)
	}
	s := &Store{pool: pool, url: MaskURL(rawURL), rawURL: rawURL, now: o.now, serverClock: !o.clockSet}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.listen, err = startListener(ctx, s)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.writer = newGroupWriter(s)
	return s, nil
}

// masked stands for a password in messages.
const masked = "***"

// MaskURL is url with its password replaced by "***", for messages and
// logs: postgres://user:***@host/db.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable PostgreSQL URL)"
	}
	// url escapes '*' in the user info and the query, so a placeholder of
	// plain letters goes in and is swapped for the mask afterwards.
	const hole = "EVENTDESKMASKEDPASSWORD"
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), hole)
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", hole)
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), hole, masked)
}

// MaskSecret replaces the password of the URL raw, wherever it appears in
// text (as written or URL-escaped), with "***".
func MaskSecret(text, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return text
	}
	var pws []string
	if pw, ok := u.User.Password(); ok {
		pws = append(pws, pw)
	}
	if pw := u.Query().Get("password"); pw != "" {
		pws = append(pws, pw)
	}
	for _, pw := range pws {
		for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
			text = strings.ReplaceAll(text, form, masked)
		}
	}
	return text
}

// URL is the database's URL with the password masked.
func (s *Store) URL() string { return s.url }

// Path is URL, so messages that name the bbolt store's file name the
// database here.
func (s *Store) Path() string { return s.url }

// Shared reports that the store is shared by every process that opens the
// same database: replicas read each other's settings and work.
func (s *Store) Shared() bool { return true }

// Close stops the writer and the listener, ends subscriptions and closes
// the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.hub.Shutdown()
		s.stopRejected()
		s.writer.stop()
		s.listen.stop()
		s.pool.Close()
	})
	return nil
}

// migration is one embedded SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: the name must start with its version number", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// SchemaVersion is the newest migration this build has.
func SchemaVersion() int {
	ms, _ := migrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the missing migrations in one transaction under an
// advisory lock, or refuses a database newer than this build.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.url, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return fmt.Errorf("lock %s for migrations: %w", s.url, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create the schema version table in %s: %w", s.url, err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read the schema version of %s: %w", s.url, err)
	}
	if latest := SchemaVersion(); have > latest {
		return fmt.Errorf("database %s has schema version %d; this eventdesk understands up to %d, so upgrade eventdesk: %w", s.url, have, latest, ErrNewerSchema)
	}
	for _, m := range ms {
		if m.version <= have {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s to %s: %w", m.name, s.url, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("record migration %s in %s: %w", m.name, s.url, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migrations to %s: %w", s.url, err)
	}
	return nil
}

// inTx runs fn in a transaction and commits it; announce, when not empty,
// is NOTIFYed with the commit (store.go's Hub wakes on it in every
// process) and wakes this process's subscribers at once.
func (s *Store) inTx(ctx context.Context, announce string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.connErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if announce != "" {
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, announce); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.connErr(err)
	}
	s.announced(announce)
	return nil
}

// announced wakes local subscribers after a commit announced as what.
func (s *Store) announced(what string) {
	switch what {
	case "":
	case announceInstances:
		s.hub.NotifyInstances()
	default:
		s.hub.Notify()
	}
}

// What a commit's NOTIFY payload says changed.
const (
	announceData      = "d" // events, notifications, poll state, ...
	announceInstances = "i" // an instance: InstancesVersion moves
)

// connErr names the database in a connection-level error.
func (s *Store) connErr(err error) error {
	if err == nil {
		return nil
	}
	if s.closed() {
		return store.ErrClosed
	}
	return fmt.Errorf("PostgreSQL %s: %w", s.url, err)
}

func (s *Store) closed() bool {
	select {
	case <-s.writer.quit:
		return true
	default:
		return false
	}
}

// Subscribe returns a subscription woken by every commit of any process on
// the database; Close it when done.
func (s *Store) Subscribe() *store.Subscription { return s.hub.Subscribe() }

// InstancesVersion changes whenever an instance is created, changed or
// deleted, by this process or another.
func (s *Store) InstancesVersion() uint64 { return s.hub.InstancesVersion() }
