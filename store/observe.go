package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CommitObserver is told about every group commit: how many writes it
// carried and how long the transaction took, fsync included. The metrics
// package implements it; SetCommitObserver installs it.
type CommitObserver interface {
	StoreCommitted(writes int, took time.Duration)
}

// commitObserver wraps the interface so an atomic.Pointer can hold it.
type commitObserver struct{ CommitObserver }

// SetCommitObserver installs o (nil removes it). Commits after the call
// report to it.
func (s *Store) SetCommitObserver(o CommitObserver) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&commitObserver{o})
}

// observeCommit starts timing a group commit of writes; the writer defers
// the function it returns, which runs on the writer's goroutine after the
// commit: it reports the commit and takes the dedupe index's size, which
// only that goroutine may read.
func (s *Store) observeCommit(writes int) func() {
	start := time.Now()
	return func() {
		s.dedupeKeys.Store(int64(len(s.dedupe.seen)))
		if o := s.observer.Load(); o != nil {
			o.StoreCommitted(writes, time.Since(start))
		}
	}
}

// keyProbe is where Probe writes.
var keyProbe = []byte("probe")

// Probe makes one durable write through the group writer, the path every
// webhook takes: it fails when the disk is full, the file went read-only or
// the store is closed. It blocks while the writer is stuck, so a caller
// that must answer in time runs it aside (one at a time). Subscribers are
// woken as by any commit, so a readiness check also learns which loops
// still answer.
func (s *Store) Probe(ctx context.Context) error {
	err := s.writer.do(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyProbe, []byte(s.now().UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.path, err)
	}
	return nil
}
