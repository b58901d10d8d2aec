// Package store keeps eventdesk's state in one bbolt file: instances,
// settings and API secrets, events with their indexes and dedupe keys, the
// rejected-request ring, poll state and the notification outbox. One process
// owns the file; bbolt's file lock makes a second one fail fast.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this build writes. Older files are migrated on
// open; newer ones are refused rather than misread. Version 3 writes events
// and notifications in compact binary records (events.go, notifcodec.go)
// and keeps notification bodies in their own bucket, written once. Records
// of earlier versions stay beside the new ones and are read as they are (a
// notification's inline body moves out when its record is next rewritten),
// so moving up from 2 converts nothing, and an older eventdesk refuses the
// file instead of misreading new records.
const SchemaVersion = 3

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrLocked      = errors.New("database is in use by another eventdesk process")
	ErrNewerSchema = errors.New("database was written by a newer eventdesk")
	ErrOlderSchema = errors.New("database needs a schema upgrade")
	ErrClosed      = errors.New("store is closed")
)

var (
	bucketMeta      = []byte("meta")
	bucketInstances = []byte("instances")
	bucketSettings  = []byte("settings")
	keySchema       = []byte("schema")
)

// allBuckets exist in every open store, so transactions never need to
// create them on the fly.
var allBuckets = [][]byte{bucketMeta, bucketInstances, bucketSettings}

// Options tune Open.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock (default 1s).
	LockTimeout time.Duration
	// ReadOnly opens without write access (still takes a shared lock).
	ReadOnly bool
	// NoSync skips fsync: only for benchmarks' baselines and throwaway tests.
	NoSync bool
	// Now is the clock (default time.Now); tests use a fake one.
	Now func() time.Time
	// scanFreelist leaves the free list out of the file, as earlier
	// versions did, for the benchmark that compares the two.
	scanFreelist bool
	// smallMmap keeps bbolt's default first mapping (remapped at each
	// doubling), for the benchmark that compares the two.
	smallMmap bool
	// noReserve leaves out the zeros written ahead of the last page, for
	// the benchmark that compares the two.
	noReserve bool
	// reserveAhead and reserveChunk override the reserve's sizes in tests.
	reserveAhead, reserveChunk int64
	// reserveFault fails the reserve's writes in tests (a full disk).
	reserveFault func(off int64) error
}

// Store is an open eventdesk database.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time

	// hub fans commits out to subscriptions and holds the closed state.
	hub Hub

	writer *groupWriter
	// outboxCache belongs to the group writer's goroutine (outbox.go).
	outboxCache map[int64]cachedInstance
	// dedupe belongs to the group writer's goroutine too (dedupe.go).
	dedupe *dedupeIndex
	// rejected queues rejected requests between writes (rejected.go).
	rejected rejectedQueue
	// observer and dedupeKeys serve the metrics (observe.go).
	observer   atomic.Pointer[commitObserver]
	dedupeKeys atomic.Int64
	// reserve keeps zeros written ahead of the last page (reserve.go);
	// nil when read-only or without fsync.
	reserve *reserve
}

// LockedError is Open's error for a database another process holds; it
// matches ErrLocked with errors.Is and names the file.
type LockedError struct{ Path string }

// Error names the file and says it is in use.
func (e *LockedError) Error() string {
	return fmt.Sprintf("database %s is in use by another eventdesk process", e.Path)
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// DefaultPath is $XDG_DATA_HOME/eventdesk/eventdesk.db, falling back to
// ~/.local/share/eventdesk/eventdesk.db.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the data directory: %w (set XDG_DATA_HOME or use --db)", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "eventdesk", "eventdesk.db"), nil
}

// Open opens or creates the database at path with mode 0600. A file locked
// by another process gives ErrLocked within about LockTimeout.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	if err := checkFileLength(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w; restore it from a backup", path, err)
	}
	mmap := mmapSize()
	if opts.smallMmap {
		mmap = 0
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         opts.LockTimeout,
		ReadOnly:        opts.ReadOnly,
		NoSync:          opts.NoSync,
		NoFreelistSync:  opts.scanFreelist,
		InitialMmapSize: mmap,
		FreelistType:    bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, &LockedError{Path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: opts.Now, outboxCache: map[int64]cachedInstance{}, dedupe: newDedupeIndex()}
	if !opts.ReadOnly {
		if err := s.init(); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.loadDedupe(); err != nil {
			db.Close()
			return nil, fmt.Errorf("load dedupe keys of %s: %w", path, err)
		}
	} else if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly && !opts.NoSync && !opts.noReserve {
		ahead, chunk := int64(reserveAhead), int64(reserveChunk)
		if opts.reserveAhead > 0 {
			ahead, chunk = opts.reserveAhead, opts.reserveChunk
		}
		s.reserve = startReserve(db, path, ahead, chunk, opts.reserveFault)
	}
	s.writer = newGroupWriter(s)
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySchema)
		if v == nil {
			return meta.Put(keySchema, u64(SchemaVersion))
		}
		got := binary.BigEndian.Uint64(v)
		if got > SchemaVersion {
			return fmt.Errorf("database %s has schema version %d; this eventdesk understands up to %d, so upgrade eventdesk: %w", s.path, got, SchemaVersion, ErrNewerSchema)
		}
		if got < 2 {
			// Version 2 moved webhook dedupe keys into an append-only log
			// and the instance index into blocks. The conversion and the
			// new version commit together: a file never says 2 while it
			// still has the old layout.
			if err := migrateInstanceIndex(tx); err != nil {
				return fmt.Errorf("convert the instance index of %s: %w", s.path, err)
			}
			if err := migrateDedupeKeys(tx, s.now().UnixNano()); err != nil {
				return fmt.Errorf("convert the dedupe keys of %s: %w", s.path, err)
			}
		}
		return meta.Put(keySchema, u64(SchemaVersion))
	})
}

func (s *Store) checkSchema() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if meta := tx.Bucket(bucketMeta); meta != nil {
			v = meta.Get(keySchema)
		}
		if v == nil {
			return fmt.Errorf("%s is not an eventdesk database (no schema version); a read-only open cannot set one up", s.path)
		}
		switch got := binary.BigEndian.Uint64(v); {
		case got > SchemaVersion:
			return fmt.Errorf("database %s has schema version %d; this eventdesk understands up to %d, so upgrade eventdesk: %w", s.path, got, SchemaVersion, ErrNewerSchema)
		case got < SchemaVersion:
			// Its layout is converted on a read-write open only.
			return fmt.Errorf("database %s has schema version %d and needs an upgrade to %d, which a read-only open cannot do: open it once read-write (run eventdesk or eventdesk serve on it): %w", s.path, got, SchemaVersion, ErrOlderSchema)
		}
		return nil
	})
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close stops the group writer, ends subscriptions and closes the file.
func (s *Store) Close() error {
	if !s.hub.Shutdown() {
		return nil
	}
	s.stopRejected()
	s.writer.stop()
	s.reserve.stop()
	return s.db.Close()
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// UsedBytes is how much of the file bbolt's pages take (free pages it will
// reuse included); the rest is room bbolt added ahead when growing the file.
func (s *Store) UsedBytes(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n, err
}

// checkFileLength refuses a database file shorter than its pages before
// bbolt maps it: bbolt would fault (SIGBUS, ending the process) on the
// first page past the end. It reads the two meta pages' page counts; a file
// that is missing, empty or not bbolt is left to bbolt to judge.
func checkFileLength(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	// A meta page: 16-byte page header, then magic, version, page size,
	// flags (4 bytes each), root bucket (16), freelist page id (8) and the
	// high-water page id (8).
	const magic = 0xED0CDAED
	var hdr [64]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil
	}
	le := binary.LittleEndian
	if le.Uint32(hdr[16:]) != magic {
		return nil
	}
	pageSize := int64(le.Uint32(hdr[24:]))
	if pageSize < 512 || pageSize > 1<<20 {
		return nil
	}
	var end int64
	for _, off := range []int64{0, pageSize} {
		if _, err := f.ReadAt(hdr[:], off); err != nil || le.Uint32(hdr[16:]) != magic {
			continue
		}
		end = max(end, int64(le.Uint64(hdr[56:]))*pageSize)
	}
	if fi.Size() < end {
		return fmt.Errorf("the file is %d bytes long but its pages end at byte %d (truncated)", fi.Size(), end)
	}
	return nil
}
