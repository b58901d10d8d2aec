package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"

	bolt "go.etcd.io/bbolt"
)

var bucketRejected = []byte("rejected")

func init() { allBuckets = append(allBuckets, bucketRejected) }

// RejectedCapacity bounds the rejected-request ring: the oldest entries go
// first, so a flood of bad requests cannot fill the disk.
const RejectedCapacity = model.RejectedCapacity

// Rejected is one request the listener refused with a 4xx; it is the
// model's.
type Rejected = model.Rejected

// Rejected requests can come in floods (an unauthenticated scan answered
// 404 after 404), so they are not committed one by one: AddRejected queues
// them in memory and one transaction writes the queue at most every
// RejectedFlushEvery. Beyond RejectedBurst at once, or RejectedRate a second
// over time, they are counted instead of kept, and the count is written as
// an entry of its own (Dropped). The log is diagnostic: a crash loses at
// most the last second of it.
const (
	RejectedRate       = 20
	RejectedBurst      = 200
	RejectedFlushEvery = time.Second
)

// rejectedQueue holds rejections not yet written. Its zero value is ready;
// the flushing goroutine starts with the first rejection.
type rejectedQueue struct {
	mu      sync.Mutex
	pending []Rejected
	dropped int       // counted since the last write
	tokens  float64   // token bucket of RejectedRate, at most RejectedBurst
	filled  time.Time // when tokens was last topped up
	started bool
	closed  bool
	wake    chan struct{} // a rejection is pending
	quit    chan struct{}
	done    chan struct{}
	// flushMu makes flushes one at a time, so ids follow arrival order.
	flushMu sync.Mutex
}

// AddRejected queues a rejection for the rejected-request ring (written
// within RejectedFlushEvery, oldest entries evicted beyond capacity), or
// counts it as dropped when rejections come faster than RejectedRate.
func (s *Store) AddRejected(ctx context.Context, r Rejected) error {
	q := &s.rejected
	now := s.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if !q.started {
		q.started = true
		q.tokens, q.filled = RejectedBurst, now
		q.wake, q.quit, q.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go s.rejectedLoop()
	}
	if d := now.Sub(q.filled); d > 0 {
		q.tokens = min(RejectedBurst, q.tokens+d.Seconds()*RejectedRate)
		q.filled = now
	}
	if q.tokens < 1 || len(q.pending) >= RejectedBurst {
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

// rejectedLoop writes the queue a RejectedFlushEvery after a rejection
// arrives, so a flood costs one commit a second.
func (s *Store) rejectedLoop() {
	q := &s.rejected
	defer close(q.done)
	for {
		select {
		case <-q.quit:
			return
		case <-q.wake:
		}
		t := time.NewTimer(RejectedFlushEvery)
		select {
		case <-q.quit:
			t.Stop()
			return
		case <-t.C:
		}
		_ = s.flushRejected()
	}
}

// flushRejected writes the queued rejections, and the count of dropped ones,
// in one transaction.
func (s *Store) flushRejected() error {
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
		batch = append(batch, Rejected{
			Time:    s.now().UTC(),
			Dropped: dropped,
			Reason: fmt.Sprintf("%d rejected request(s) not recorded: more than %d arrived at once or %d a second for a while",
				dropped, RejectedBurst, RejectedRate),
		})
	}
	err := s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRejected)
		var seq uint64
		for _, r := range batch {
			var err error
			if seq, err = b.NextSequence(); err != nil {
				return err
			}
			r.ID = strconv.FormatUint(seq, 10)
			if err := putJSON(b, u64(seq), r); err != nil {
				return err
			}
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && seq-binary.BigEndian.Uint64(k) >= RejectedCapacity; k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Not kept for another try: the log must not grow while the disk
		// refuses writes. The loss is counted in the next write.
		lost := len(batch) + dropped
		if dropped > 0 {
			lost-- // the count's own entry is no request
		}
		q.mu.Lock()
		q.dropped += lost
		q.mu.Unlock()
	}
	return err
}

// stopRejected writes what is queued and stops the flushing goroutine;
// Close calls it while the writer still runs.
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
	_ = s.flushRejected()
}

// RejectedList returns rejections newest first, below id before (0 = newest).
// Queued ones are written first, so a list shows every rejection recorded.
func (s *Store) RejectedList(ctx context.Context, before uint64, limit int) (out []Rejected, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	if err := s.flushRejected(); err != nil {
		return nil, 0, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRejected).Cursor()
		var k, v []byte
		if before != 0 {
			c.Seek(u64(before))
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				next = binary.BigEndian.Uint64(u64FromID(out[len(out)-1].ID))
				return nil
			}
			var r Rejected
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, next, err
}

// RejectedCount is how many rejections the ring holds, queued ones written
// first.
func (s *Store) RejectedCount(ctx context.Context) (int, error) {
	if err := s.flushRejected(); err != nil {
		return 0, err
	}
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketRejected).Stats().KeyN
		return nil
	})
	return n, err
}

func u64FromID(id string) []byte {
	n, _ := strconv.ParseUint(id, 10, 64)
	return u64(n)
}
