package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// failingScan matches the bbolt store: how many of an instance's oldest
// pending notifications are looked at to tell failing ones from waiting.
const failingScan = 64

// Overview reads the store's counts (in one repeatable-read transaction,
// so they agree with each other).
func (s *Store) Overview(ctx context.Context) (store.Overview, error) {
	if err := s.flushRejected(ctx); err != nil {
		return store.Overview{}, err
	}
	o := store.Overview{At: s.now()}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return o, s.connErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var dedupe float64
	var last int64
	if err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM instances),
			(SELECT coalesce(max(id), 0) FROM events),
			(SELECT count(*) FROM rejected),
			pg_database_size(current_database()),
			(SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'dedupe_keys'::regclass)`).
		Scan(&o.Instances, &last, &o.Rejected, &o.DBBytes, &dedupe); err != nil {
		return o, s.connErr(err)
	}
	o.LastEventID, o.DedupeKeys = uint64(last), int(dedupe)
	rows, err := tx.Query(ctx, `
		WITH p AS (
			SELECT instance_id, created_at, attempts - cycle_start AS tries,
				row_number() OVER (PARTITION BY instance_id ORDER BY id) AS rn
			FROM notifications WHERE state = 'pending'),
		pq AS (
			SELECT instance_id, count(*) AS total,
				count(*) FILTER (WHERE rn <= $1 AND tries > 0) AS failing,
				min(created_at) FILTER (WHERE rn = 1) AS oldest,
				bool_or(rn = 1 AND tries > 0) AS held
			FROM p GROUP BY instance_id),
		dq AS (SELECT instance_id, count(*) AS dead FROM notifications WHERE state = 'dead' GROUP BY instance_id)
		SELECT coalesce(pq.instance_id, dq.instance_id) AS id, coalesce(i.data->>'elementKey', ''),
			coalesce(pq.total, 0), coalesce(pq.failing, 0), pq.oldest, coalesce(pq.held, false), coalesce(dq.dead, 0)
		FROM pq FULL JOIN dq ON dq.instance_id = pq.instance_id
		LEFT JOIN instances i ON i.id = coalesce(pq.instance_id, dq.instance_id)
		ORDER BY 1`, failingScan)
	if err != nil {
		return o, s.connErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			q      store.InstanceQueue
			total  int
			oldest pgtype.Timestamptz
		)
		if err := rows.Scan(&q.InstanceID, &q.ElementKey, &total, &q.Failing, &oldest, &q.Held, &q.Dead); err != nil {
			return o, err
		}
		q.Pending = total - q.Failing
		q.OldestPending = fromOpt(oldest)
		o.Pending += q.Pending
		o.Failing += q.Failing
		o.Dead += q.Dead
		o.Queues = append(o.Queues, q)
	}
	if o.Queues == nil {
		o.Queues = []store.InstanceQueue{}
	}
	return o, s.connErr(rows.Err())
}

// Probe makes one durable write, the way every webhook's write goes: it
// fails while the database cannot be written to. Subscribers are woken as
// by any commit.
func (s *Store) Probe(ctx context.Context) error {
	err := s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('probe', $1)
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, s.now().UTC().Format(time.RFC3339Nano))
		return s.connErr(err)
	})
	if err != nil {
		// inTx's and connErr's errors name the database already.
		return fmt.Errorf("write a probe: %w", err)
	}
	return nil
}

// UsedBytes is the database's size on disk.
func (s *Store) UsedBytes(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
	return n, s.connErr(err)
}

// BackupCommand is the pg_dump command that backs the database up to path
// (the password, if the URL has one, masked: pg_dump takes it from
// PGPASSWORD or ~/.pgpass, or put it back where *** stands).
func (s *Store) BackupCommand(path string) string { return BackupCommand(s.rawURL, path) }

// BackupCommand is the pg_dump command that backs the database at rawURL
// up to file in pg_dump's custom format, which pg_restore reads, with the
// URL's password masked.
func BackupCommand(rawURL, file string) string {
	return "pg_dump -Fc -f " + shellQuote(file) + " " + shellQuote(MaskURL(rawURL))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Backup refuses: a PostgreSQL store is backed up with pg_dump (or the
// server's continuous archiving); the error says the command.
func (s *Store) Backup(ctx context.Context, path string) (int64, error) {
	return 0, fmt.Errorf("%w: use PostgreSQL's own tools, for example: %s", ErrBackupUnsupported, s.BackupCommand(path))
}

// WriteBackup refuses as Backup does.
func (s *Store) WriteBackup(ctx context.Context, w io.Writer) (int64, error) {
	return 0, fmt.Errorf("%w: use PostgreSQL's own tools, for example: %s", ErrBackupUnsupported, s.BackupCommand("eventdesk.dump"))
}
