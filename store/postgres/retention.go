package postgres

import (
	"context"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// pruneBatch bounds one pruning transaction, as in the bbolt store.
const pruneBatch = 1000

// Prune deletes events received before cutoff, delivered notifications
// created before cutoff (with their attempts), and expired dedupe keys, in
// small transactions. Pending and dead notifications stay. Replicas run it
// one at a time (see TryOnce).
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (store.PruneResult, error) {
	var res store.PruneResult
	for {
		n, err := s.pruneEvents(ctx, cutoff)
		res.Events += n
		if err != nil {
			return res, err
		}
		if n < pruneBatch {
			break
		}
	}
	for {
		n, err := s.pruneBatch(ctx, `
			WITH victims AS (
				DELETE FROM notifications WHERE id IN (
					SELECT id FROM notifications WHERE state = 'delivered' AND created_at < $1 ORDER BY id LIMIT $2)
				RETURNING id)
			, gone AS (DELETE FROM attempts WHERE notification_id IN (SELECT id FROM victims))
			SELECT count(*) FROM victims`, cutoff)
		res.Notifications += n
		if err != nil {
			return res, err
		}
		if n < pruneBatch {
			break
		}
	}
	for {
		n, err := s.pruneBatch(ctx, `
			WITH victims AS (
				DELETE FROM dedupe_keys WHERE key IN (
					SELECT key FROM dedupe_keys WHERE expires_at <= $1 LIMIT $2)
				RETURNING 1)
			SELECT count(*) FROM victims`, s.now())
		res.DedupeKeys += n
		if err != nil {
			return res, err
		}
		if n < pruneBatch {
			return res, nil
		}
	}
}

func (s *Store) pruneBatch(ctx context.Context, sql string, at time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, sql, at, pruneBatch).Scan(&n)
	})
	return n, err
}

// pruneEvents deletes the oldest events up to the first one received at or
// after cutoff, at most pruneBatch.
func (s *Store) pruneEvents(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			WITH head AS (SELECT id, received_at FROM events ORDER BY id LIMIT $2),
			stop AS (SELECT coalesce(min(id), 9223372036854775807) AS id FROM head WHERE received_at >= $1),
			victims AS (DELETE FROM events WHERE id IN (SELECT h.id FROM head h, stop WHERE h.id < stop.id) RETURNING 1)
			SELECT count(*) FROM victims`, cutoff, pruneBatch).Scan(&n)
	})
	return n, err
}
