package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// The readers below, with Instances, EventsAfter, Attempts and
// RejectedList, read a whole deployment out for copying it to another
// backend with the Put methods.

// NotificationsAfter returns up to limit notifications of every state
// with an id above after, oldest first, with their bodies.
func (s *Store) NotificationsAfter(ctx context.Context, after uint64, limit int) ([]model.Notification, error) {
	var out []model.Notification
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			n, err := getNotification(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// Settings returns every stored setting, the API secrets among them.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}

// AllPollStatuses returns every stored poll status, by instance and
// resource.
func (s *Store) AllPollStatuses(ctx context.Context) ([]model.PollStatus, error) {
	var out []model.PollStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPoll).ForEach(func(k, v []byte) error {
			var st model.PollStatus
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("poll status %q: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	return out, err
}

// EachDedupeRecord calls fn with every remembered change that has not
// expired (a webhook key renewed later once, with its latest expiry),
// stopping at fn's first error.
func (s *Store) EachDedupeRecord(ctx context.Context, fn func(DedupeRecord) error) error {
	now := s.now().UnixNano()
	return s.db.View(func(tx *bolt.Tx) error {
		latest := map[dedupeHash]int64{}
		err := tx.Bucket(bucketDedupeLog).ForEach(func(_, v []byte) error {
			if len(v) == dedupeLogValueLen {
				if exp := int64(binary.BigEndian.Uint64(v)); exp > now && exp > latest[dedupeHash(v[8:])] {
					latest[dedupeHash(v[8:])] = exp
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for h, exp := range latest {
			if err := fn(DedupeRecord{Hash: h, Expires: unixNano(exp)}); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketDedupe).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return nil
			}
			exp := int64(binary.BigEndian.Uint64(v))
			if exp <= now {
				return nil
			}
			return fn(DedupeRecord{Key: string(k), Expires: unixNano(exp)})
		})
	})
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }
