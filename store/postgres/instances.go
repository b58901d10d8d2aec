package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// instanceArgs are an instance's row values: its JSON and the columns the
// delivery claims read.
func instanceArgs(in model.Instance) ([]any, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	return []any{in.ID, data, in.Deliverable(), in.Ordered(), in.Concurrency()}, nil
}

const upsertInstanceSQL = `
	INSERT INTO instances (id, data, deliverable, ordered, concurrency) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, deliverable = EXCLUDED.deliverable,
		ordered = EXCLUDED.ordered, concurrency = EXCLUDED.concurrency`

// CreateInstance stores a validated instance under the next id and issues
// its token.
func (s *Store) CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error) {
	if err := in.Validate(); err != nil {
		return model.Instance{}, err
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return model.Instance{}, fmt.Errorf("issue token: %w", err)
	}
	in = in.Clone()
	in.Token = base64.StdEncoding.EncodeToString(tok)
	err := s.inTx(ctx, announceInstances, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT nextval('instances_id_seq')").Scan(&in.ID); err != nil {
			return err
		}
		args, err := instanceArgs(in)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, upsertInstanceSQL, args...)
		return err
	})
	if err != nil {
		return model.Instance{}, fmt.Errorf("create instance: %w", err)
	}
	return in, nil
}

func getInstance(ctx context.Context, q querier, id int64, lock string) (model.Instance, error) {
	var in model.Instance
	if id <= 0 {
		return in, fmt.Errorf("instance %d: %w", id, store.ErrNotFound)
	}
	var data []byte
	err := q.QueryRow(ctx, "SELECT data FROM instances WHERE id = $1 "+lock, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, fmt.Errorf("instance %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return in, fmt.Errorf("instance %d is corrupt: %w", id, err)
	}
	return in, nil
}

// Instance returns one instance, or store.ErrNotFound.
func (s *Store) Instance(ctx context.Context, id int64) (model.Instance, error) {
	var in model.Instance
	if id <= 0 {
		return in, fmt.Errorf("instance %d: %w", id, store.ErrNotFound)
	}
	var data []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM instances WHERE id = $1", id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, fmt.Errorf("instance %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return in, s.connErr(err)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return in, fmt.Errorf("instance %d is corrupt: %w", id, err)
	}
	return in, nil
}

// Instances lists instances in id order.
func (s *Store) Instances(ctx context.Context) ([]model.Instance, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, data FROM instances ORDER BY id")
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	var out []model.Instance
	for rows.Next() {
		var (
			id   int64
			data []byte
			in   model.Instance
		)
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &in); err != nil {
			return nil, fmt.Errorf("instance %d is corrupt: %w", id, err)
		}
		out = append(out, in)
	}
	return out, s.connErr(rows.Err())
}

// UpdateInstance applies fn to the stored instance inside one transaction
// (the row locked, so replicas' updates apply one after the other),
// validates the result and stores it, forgetting the poll state of
// resources the poller configuration no longer names, as the bbolt store
// does. If fn fails nothing changes.
func (s *Store) UpdateInstance(ctx context.Context, id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error) {
	var out model.Instance
	err := s.inTx(ctx, announceInstances, func(tx pgx.Tx) error {
		cur, err := getInstance(ctx, tx, id, "FOR NO KEY UPDATE")
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		next.ID, next.Token, next.ElementKey, next.CreatedAt = cur.ID, cur.Token, cur.ElementKey, cur.CreatedAt
		if err := next.Validate(); err != nil {
			return err
		}
		out = next
		args, err := instanceArgs(next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, upsertInstanceSQL, args...); err != nil {
			return err
		}
		return deleteDroppedPollStatuses(ctx, tx, next)
	})
	if err != nil {
		return model.Instance{}, err
	}
	return out, nil
}

// DeleteInstance removes an instance; its pending notifications go dead
// and its poll state and work rows go. Its events stay until retention.
func (s *Store) DeleteInstance(ctx context.Context, id int64) error {
	return s.inTx(ctx, announceInstances, func(tx pgx.Tx) error {
		// The row goes first: an ingest holding it share-locked commits
		// before this goes on, so its notifications are marked dead below.
		tag, err := tx.Exec(ctx, "DELETE FROM instances WHERE id = $1", id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("instance %d: %w", id, store.ErrNotFound)
		}
		if err := abandonPending(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM poll_state WHERE instance_id = $1", id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM work WHERE instance_id = $1", id)
		return err
	})
}

// KeepPipedriveToken stores token as the instance's pipedrive.api.token
// unless one was stored meanwhile, which then wins; it returns the token
// in effect.
func (s *Store) KeepPipedriveToken(ctx context.Context, id int64, token string) (string, error) {
	_, err := s.UpdateInstance(ctx, id, func(cur model.Instance) (model.Instance, error) {
		if have := cur.Configuration[model.KeyPipedriveToken]; have != "" {
			token = have
		} else {
			cur.Configuration[model.KeyPipedriveToken] = token
		}
		return cur, nil
	})
	if err != nil {
		return "", fmt.Errorf("store the API token from the Pipedrive login: %w", err)
	}
	return token, nil
}
