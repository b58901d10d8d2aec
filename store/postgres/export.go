package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// The readers below, with Instances, EventsAfter, Attempts and
// RejectedList, read a whole deployment out for copying it to another
// backend with the Put methods.

// NotificationsAfter returns up to limit notifications of every state
// with an id above after, oldest first, with their bodies.
func (s *Store) NotificationsAfter(ctx context.Context, after uint64, limit int) ([]model.Notification, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+notificationMetaCols+", body FROM notifications WHERE id > $1 ORDER BY id LIMIT $2", clampSeq(after), limit)
	if err != nil {
		return nil, s.connErr(err)
	}
	out, err := collectNotifications(rows, true)
	return out, s.connErr(err)
}

// Settings returns every stored setting, the API secrets among them.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT key, value FROM settings")
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, s.connErr(rows.Err())
}

// AllPollStatuses returns every stored poll status, by instance and
// resource.
func (s *Store) AllPollStatuses(ctx context.Context) ([]model.PollStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT instance_id, resource, data FROM poll_state ORDER BY instance_id, resource COLLATE "C"`)
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	var out []model.PollStatus
	for rows.Next() {
		var (
			id       int64
			resource string
			data     []byte
			st       model.PollStatus
		)
		if err := rows.Scan(&id, &resource, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("poll status of instance %d %s: %w", id, resource, err)
		}
		out = append(out, st)
	}
	return out, s.connErr(rows.Err())
}

// EachDedupeRecord calls fn with every remembered change that has not
// expired, stopping at fn's first error.
func (s *Store) EachDedupeRecord(ctx context.Context, fn func(store.DedupeRecord) error) error {
	rows, err := s.pool.Query(ctx, "SELECT key, expires_at FROM dedupe_keys WHERE expires_at > $1", micro(s.now()))
	if err != nil {
		return s.connErr(err)
	}
	defer rows.Close()
	var (
		key []byte
		exp time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&key, &exp}, func() error {
		r := store.DedupeRecord{Expires: exp}
		if len(key) == len(r.Hash) {
			copy(r.Hash[:], key)
		} else {
			r.Key = string(key)
		}
		return fn(r)
	})
	return s.connErr(err)
}
