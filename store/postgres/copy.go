package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// The Put methods write records as they are, ids included, for copying a
// deployment between backends. Writing a record again overwrites it (or
// leaves the identical row), so an interrupted copy can be run again. They
// skip the rules ordinary writes follow: the source already followed them.

// PutInstances writes instances with their ids and tokens; later
// CreateInstance calls number after the highest.
func (s *Store) PutInstances(ctx context.Context, ins []model.Instance) error {
	return s.inTx(ctx, announceInstances, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, in := range ins {
			if in.ID <= 0 {
				return fmt.Errorf("instance %d: ids start at 1", in.ID)
			}
			args, err := instanceArgs(in)
			if err != nil {
				return err
			}
			b.Queue(upsertInstanceSQL, args...)
		}
		b.Queue(`SELECT setval('instances_id_seq', greatest((SELECT coalesce(max(id), 0) FROM instances), 1),
			(SELECT count(*) > 0 FROM instances))`)
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutEvents writes events with their ids; later events number after the
// highest.
func (s *Store) PutEvents(ctx context.Context, events []model.Event) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		cols := newEventColumns(len(events))
		var top int64
		for _, e := range events {
			seq := e.Seq()
			if seq == 0 || seq > 1<<62 {
				return fmt.Errorf("event %q: the id must be a number from 1", e.ID)
			}
			cols.add(int64(seq), e)
			top = max(top, int64(seq))
		}
		b := &pgx.Batch{}
		b.Queue(insertEventsSQL+" ON CONFLICT (id) DO NOTHING", cols.args()...)
		b.Queue("UPDATE counters SET events = greatest(events, $1)", top)
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutDedupeKeys writes remembered changes with their expiry.
func (s *Store) PutDedupeKeys(ctx context.Context, recs []store.DedupeRecord) error {
	keys := make([][]byte, len(recs))
	exps := make([]time.Time, 0, len(recs))
	for i, r := range recs {
		if r.Key == "" {
			keys[i] = append([]byte(nil), r.Hash[:]...)
		} else {
			keys[i] = []byte(r.Key)
		}
		exps = append(exps, micro(r.Expires))
	}
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO dedupe_keys (key, expires_at)
			SELECT k, e FROM unnest($1::bytea[], $2::timestamptz[]) AS u(k, e)
			ON CONFLICT (key) DO UPDATE SET expires_at = greatest(dedupe_keys.expires_at, EXCLUDED.expires_at)`, keys, exps)
		return err
	})
}

// PutNotifications writes notifications with their bodies, states and
// attempt counts; later notifications number after the highest.
func (s *Store) PutNotifications(ctx context.Context, ns []model.Notification) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		var top int64
		for _, n := range ns {
			seq := n.Seq()
			if seq == 0 || seq > 1<<62 {
				return fmt.Errorf("notification %q: the id must be a number from 1", n.ID)
			}
			b.Queue(`DELETE FROM notifications WHERE id = $1`, int64(seq))
			queueInsertNotification(b, n)
			top = max(top, int64(seq))
		}
		b.Queue("UPDATE counters SET notifications = greatest(notifications, $1)", top)
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutAttempts writes delivery attempts.
func (s *Store) PutAttempts(ctx context.Context, as []model.Attempt) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, a := range as {
			seq, err := strconv.ParseUint(a.NotificationID, 10, 62)
			if err != nil || seq == 0 {
				return fmt.Errorf("attempt of notification %q: the id must be a number from 1", a.NotificationID)
			}
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO attempts (notification_id, n, data) VALUES ($1, $2, $3)
				ON CONFLICT (notification_id, n) DO UPDATE SET data = EXCLUDED.data`, int64(seq), a.N, data)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutPollStatuses writes poll statuses (checkpoints included) as they are.
func (s *Store) PutPollStatuses(ctx context.Context, sts []model.PollStatus) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, st := range sts {
			data, err := json.Marshal(st)
			if err != nil {
				return err
			}
			b.Queue(upsertPollSQL, st.InstanceID, st.Resource, data)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutSettings writes settings, the API secrets among them.
func (s *Store) PutSettings(ctx context.Context, settings map[string]string) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for k, v := range settings {
			b.Queue("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", k, v)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// PutRejected writes rejected requests with their ids.
func (s *Store) PutRejected(ctx context.Context, rs []store.Rejected) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range rs {
			seq, err := strconv.ParseUint(r.ID, 10, 62)
			if err != nil || seq == 0 {
				return fmt.Errorf("rejected request %q: the id must be a number from 1", r.ID)
			}
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO rejected (id, data) OVERRIDING SYSTEM VALUE VALUES ($1, $2)
				ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, int64(seq), data)
		}
		b.Queue(`SELECT setval(pg_get_serial_sequence('rejected', 'id'), greatest((SELECT coalesce(max(id), 0) FROM rejected), 1),
			(SELECT count(*) > 0 FROM rejected))`)
		return tx.SendBatch(ctx, b).Close()
	})
}

// TableCounts counts the records of each table (store's Table names).
// Dedupe keys count those not yet expired, as on the bbolt store.
func (s *Store) TableCounts(ctx context.Context) (map[string]int, error) {
	if err := s.flushRejected(ctx); err != nil {
		return nil, err
	}
	var c [8]int
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM instances), (SELECT count(*) FROM events),
		(SELECT count(*) FROM dedupe_keys WHERE expires_at > $1), (SELECT count(*) FROM notifications),
		(SELECT count(*) FROM attempts), (SELECT count(*) FROM poll_state),
		(SELECT count(*) FROM settings), (SELECT count(*) FROM rejected)`, micro(s.now())).
		Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7])
	if err != nil {
		return nil, s.connErr(err)
	}
	return map[string]int{
		store.TableInstances: c[0], store.TableEvents: c[1], store.TableDedupeKeys: c[2], store.TableNotifications: c[3],
		store.TableAttempts: c[4], store.TablePollState: c[5], store.TableSettings: c[6], store.TableRejected: c[7],
	}, nil
}
