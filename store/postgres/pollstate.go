package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PollStatus returns the stored status of one (instance, resource), zero
// if it never ran.
func (s *Store) PollStatus(ctx context.Context, instanceID int64, resource string) (model.PollStatus, error) {
	st := model.PollStatus{InstanceID: instanceID, Resource: resource}
	var data []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM poll_state WHERE instance_id = $1 AND resource = $2", instanceID, resource).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, s.connErr(err)
	}
	return st, json.Unmarshal(data, &st)
}

// PollStatuses lists an instance's statuses by resource name.
func (s *Store) PollStatuses(ctx context.Context, instanceID int64) ([]model.PollStatus, error) {
	// COLLATE "C": byte order, as the bbolt store's keys sort.
	rows, err := s.pool.Query(ctx, `SELECT data FROM poll_state WHERE instance_id = $1 ORDER BY resource COLLATE "C"`, instanceID)
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	var out []model.PollStatus
	for rows.Next() {
		var (
			data []byte
			st   model.PollStatus
		)
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, s.connErr(rows.Err())
}

const upsertPollSQL = `INSERT INTO poll_state (instance_id, resource, data) VALUES ($1, $2, $3)
	ON CONFLICT (instance_id, resource) DO UPDATE SET data = EXCLUDED.data`

// SetPollStatus stores a status. A status of a resource its instance no
// longer has (deleted, or dropped from the poller configuration) is not
// stored: it would bring back the state that change removed.
func (s *Store) SetPollStatus(ctx context.Context, st model.PollStatus) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		return setPollStatus(ctx, tx, st)
	})
}

func setPollStatus(ctx context.Context, tx querier, st model.PollStatus) error {
	in, err := getInstance(ctx, tx, st.InstanceID, "FOR SHARE")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err == nil && !in.KeepsPollerResource(st.Resource):
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, upsertPollSQL, st.InstanceID, st.Resource, data)
	return err
}

// querier is a transaction, or a connection inside one.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// deleteDroppedPollStatuses forgets the poll state of every resource in's
// poller configuration no longer names, in the transaction storing in.
func deleteDroppedPollStatuses(ctx context.Context, tx pgx.Tx, in model.Instance) error {
	rows, err := tx.Query(ctx, `SELECT resource FROM poll_state WHERE instance_id = $1 ORDER BY resource COLLATE "C"`, in.ID)
	if err != nil {
		return err
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if dropped := in.DroppedPollerResources(have); len(dropped) > 0 {
		_, err = tx.Exec(ctx, "DELETE FROM poll_state WHERE instance_id = $1 AND resource = ANY($2)", in.ID, dropped)
	}
	return err
}

// ForgetStalePollStatuses deletes poll state no stored instance accounts
// for, and returns how many statuses it deleted.
func (s *Store) ForgetStalePollStatuses(ctx context.Context) (int, error) {
	n := 0
	err := s.inTx(ctx, "", func(tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT p.instance_id, p.resource, i.data FROM poll_state p LEFT JOIN instances i ON i.id = p.instance_id FOR UPDATE OF p`)
		if err != nil {
			return err
		}
		type key struct {
			id       int64
			resource string
		}
		var gone []key
		for rows.Next() {
			var (
				k    key
				data []byte
			)
			if err := rows.Scan(&k.id, &k.resource, &data); err != nil {
				rows.Close()
				return err
			}
			if data == nil {
				gone = append(gone, k)
				continue
			}
			var in model.Instance
			if json.Unmarshal(data, &in) == nil && !in.KeepsPollerResource(k.resource) {
				gone = append(gone, k)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range gone {
			if _, err := tx.Exec(ctx, "DELETE FROM poll_state WHERE instance_id = $1 AND resource = $2", k.id, k.resource); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	return n, err
}
