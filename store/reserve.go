package store

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Room written ahead of the last page. bbolt grows its file by truncation,
// so without it every page a commit appends lands in a hole: the block is
// allocated at writeback and each commit's fdatasync also writes the file's
// block map, which makes the commit slower and costs more CPU than
// overwriting a block already on disk. The reserve keeps reserveAhead bytes
// past the last page written with zeros and flushed, topped up in chunks
// once less than half is left.
const (
	reserveAhead = 16 << 20
	reserveChunk = 1 << 20
	// reserveRetry is the pause after a failed write of zeros (a full disk):
	// bbolt then grows the file as it would without the reserve.
	reserveRetry = 30 * time.Second
)

// reserve writes the zeros from its own goroutine. Pages past bbolt's
// high-water mark belong to nobody until a write transaction allocates
// them, so each chunk is written while holding a write transaction (rolled
// back, it commits nothing): no transaction can allocate into the chunk
// while its zeros are written, and once written, bbolt's own writes to the
// same pages come after them.
type reserve struct {
	db    *bolt.DB
	f     *os.File
	ahead int64
	chunk int64
	zeros []byte
	wake  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup

	// fault, when set, fails writes of zeros (tests of a full disk).
	fault func(off int64) error
	// failures counts failed top-ups, for tests.
	failures atomic.Int64

	// end is where the zeros written so far end; only the goroutine uses it.
	end int64
	// chunks counts chunks written, for tests.
	chunks atomic.Int64
}

// startReserve opens path for writing and starts the goroutine; it returns
// nil (no reserve) if the file cannot be opened for writing.
func startReserve(db *bolt.DB, path string, ahead, chunk int64, fault func(off int64) error) *reserve {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	r := &reserve{db: db, f: f, ahead: ahead, chunk: chunk, zeros: make([]byte, chunk),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), fault: fault}
	r.wg.Add(1)
	go r.loop()
	r.poke()
	return r
}

// poke asks for a check after a commit; it never blocks.
func (r *reserve) poke() {
	if r == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *reserve) stop() {
	if r == nil {
		return
	}
	close(r.quit)
	r.wg.Wait()
	r.f.Close()
}

func (r *reserve) loop() {
	defer r.wg.Done()
	var retry <-chan time.Time
	for {
		select {
		case <-r.quit:
			return
		case <-retry:
			retry = nil
		case <-r.wake:
			if retry != nil {
				continue
			}
		}
		if err := r.topUp(); err != nil {
			r.failures.Add(1)
			retry = time.After(reserveRetry)
		}
	}
}

// topUp writes chunks until reserveAhead bytes past the last page are
// zeros, if less than half of that is left.
func (r *reserve) topUp() error {
	last, err := r.lastPageEnd()
	if err != nil {
		return err
	}
	if r.end-last >= r.ahead/2 {
		return nil
	}
	for {
		select {
		case <-r.quit:
			return nil
		default:
		}
		off, n, err := r.writeChunk()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		// Flushed outside the transaction: writeback of the zeros must
		// not hold up commits, and bbolt's own writes to these pages,
		// if any already came, are flushed with them harmlessly.
		if err := flushRange(r.f, off, n); err != nil {
			return err
		}
	}
}

// lastPageEnd is the byte where bbolt's pages end, as of the last commit.
func (r *reserve) lastPageEnd() (int64, error) {
	tx, err := r.db.Begin(false)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	return tx.Size(), nil
}

// writeChunk writes the next chunk of zeros under a write transaction and
// returns where it went, or n == 0 once the reserve is full.
func (r *reserve) writeChunk() (off, n int64, err error) {
	tx, err := r.db.Begin(true)
	if err != nil {
		return 0, 0, err
	}
	// Rolled back: the transaction only holds off other writers.
	defer tx.Rollback()
	last := tx.Size()
	off = max(r.end, last)
	if off-last >= r.ahead {
		return 0, 0, nil
	}
	if r.fault != nil {
		if err := r.fault(off); err != nil {
			return 0, 0, err
		}
	}
	if _, err := r.f.WriteAt(r.zeros, off); err != nil {
		return 0, 0, err
	}
	r.end = off + r.chunk
	r.chunks.Add(1)
	return off, r.chunk, nil
}
