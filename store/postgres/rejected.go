package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// rejectedQueue batches rejected requests as the bbolt store does: at most
// one write every store.RejectedFlushEvery, and beyond
// store.RejectedBurst at once or store.RejectedRate a second only a count.
// Each replica limits its own share.
type rejectedQueue struct {
	mu      sync.Mutex
	pending []store.Rejected
	dropped int
	tokens  float64
	filled  time.Time
	started bool
	closed  bool
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	flushMu sync.Mutex
}

// AddRejected queues a rejection for the rejected-request ring, or counts
// it as dropped when rejections come too fast.
func (s *Store) AddRejected(ctx context.Context, r store.Rejected) error {
	q := &s.rejected
	now := s.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return store.ErrClosed
	}
	if !q.started {
		q.started = true
		q.tokens, q.filled = store.RejectedBurst, now
		q.wake, q.quit, q.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go s.rejectedLoop()
	}
	if d := now.Sub(q.filled); d > 0 {
		q.tokens = min(store.RejectedBurst, q.tokens+d.Seconds()*store.RejectedRate)
		q.filled = now
	}
	if q.tokens < 1 || len(q.pending) >= store.RejectedBurst {
		q.dropped++
		return nil
	}
	q.tokens--
	q.pending = append(q.pending, r)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *Store) rejectedLoop() {
	q := &s.rejected
	defer close(q.done)
	for {
		select {
		case <-q.quit:
			return
		case <-q.wake:
		}
		t := time.NewTimer(store.RejectedFlushEvery)
		select {
		case <-q.quit:
			t.Stop()
			return
		case <-t.C:
		}
		_ = s.flushRejected(context.Background())
	}
}

// flushRejected writes the queued rejections and the count of dropped ones
// in one transaction, then trims the ring to store.RejectedCapacity.
func (s *Store) flushRejected(ctx context.Context) error {
	q := &s.rejected
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	batch, dropped := q.pending, q.dropped
	q.pending, q.dropped = nil, 0
	q.mu.Unlock()
	if len(batch) == 0 && dropped == 0 {
		return nil
	}
	if dropped > 0 {
		batch = append(batch, store.Rejected{
			Time:    s.now().UTC(),
			Dropped: dropped,
			Reason: fmt.Sprintf("%d rejected request(s) not recorded: more than %d arrived at once or %d a second for a while",
				dropped, store.RejectedBurst, store.RejectedRate),
		})
	}
	err := s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		for _, r := range batch {
			var id int64
			if err := tx.QueryRow(ctx, "INSERT INTO rejected (data) VALUES ('{}') RETURNING id").Scan(&id); err != nil {
				return err
			}
			r.ID = strconv.FormatInt(id, 10)
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE rejected SET data = $2 WHERE id = $1", id, data); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "DELETE FROM rejected WHERE id <= (SELECT max(id) FROM rejected) - $1", store.RejectedCapacity)
		return err
	})
	if err != nil {
		lost := len(batch) + dropped
		if dropped > 0 {
			lost--
		}
		q.mu.Lock()
		q.dropped += lost
		q.mu.Unlock()
	}
	return err
}

func (s *Store) stopRejected() {
	q := &s.rejected
	q.mu.Lock()
	started := q.started && !q.closed
	q.closed = true
	q.mu.Unlock()
	if started {
		close(q.quit)
		<-q.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.flushRejected(ctx)
}

// RejectedList returns rejections newest first, below id before (0 =
// newest), queued ones written first.
func (s *Store) RejectedList(ctx context.Context, before uint64, limit int) (out []store.Rejected, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	if err := s.flushRejected(ctx); err != nil {
		return nil, 0, err
	}
	top := clampSeq(before)
	if before == 0 {
		top = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, "SELECT data FROM rejected WHERE id < $1 ORDER BY id DESC LIMIT $2", top, limit+1)
	if err != nil {
		return nil, 0, s.connErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			data []byte
			r    store.Rejected
		)
		if err := rows.Scan(&data); err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.connErr(err)
	}
	if len(out) > limit {
		out = out[:limit]
		next, _ = strconv.ParseUint(out[limit-1].ID, 10, 64)
	}
	return out, next, nil
}

// RejectedCount is how many rejections the ring holds, queued ones written
// first.
func (s *Store) RejectedCount(ctx context.Context) (int, error) {
	if err := s.flushRejected(ctx); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM rejected").Scan(&n)
	return n, s.connErr(err)
}
